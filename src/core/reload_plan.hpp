// What a reload changes: the difference between the running service
// definitions and a freshly loaded stack.
//
// The one table k_key_rules says, for every key of a service definition,
// whether a change to it restarts the service (it defines the process: argv,
// environment, credentials, limits, where output goes) or applies live (it is
// read only when luvsup next decides something: the restart policy at the
// next exit, the stop signal at the next stop, depends_on at the next start).
// luvsup-stack(5), section RELOAD, documents the same table.
//
// plan_reload is a pure function of two lists of specs, so that `luvsup
// check --plan` can print a plan without applying it; Supervisor::apply_reload
// carries a plan out.
#pragma once

#include "core/service_spec.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::core {

enum class KeyEffect {
  restart,  // the running process no longer matches its definition: restart it
  live,     // the new value is used from now on; the process keeps running
};

// One row: a key of the DSL, what a change does, and how to tell it changed.
struct KeyRule {
  std::string_view key;
  KeyEffect effect;
  bool (*differs)(const ServiceSpec& running, const ServiceSpec& next);
};

// Compares one member of two specs; a row of the table is then one line:
//   {"cwd", KeyEffect::restart, &member_differs<&ServiceSpec::cwd>},
template <auto Member> bool member_differs(const ServiceSpec& running, const ServiceSpec& next) {
  return !(running.*Member == next.*Member);
}

// Every key of a service definition, in the order of luvsup-stack(5).
std::span<const KeyRule> key_rules();

// How one service that exists before and after the reload changes.
struct ServiceChange {
  std::string name;
  std::vector<std::string_view> restart_keys;  // changed keys that restart it
  std::vector<std::string_view> live_keys;     // changed keys applied live
  // Dependencies it declares with `restart = true` that the plan restarts
  // (directly or through their own dependencies): it restarts with them.
  std::vector<std::string> restarted_with;

  [[nodiscard]] bool restarts() const { return !restart_keys.empty() || !restarted_with.empty(); }
};

struct ReloadPlan {
  std::vector<std::string> added;      // in the new stack's declaration order
  std::vector<std::string> removed;    // in the running stack's order
  std::vector<ServiceChange> changed;  // in the new stack's declaration order

  [[nodiscard]] bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
  // The change of `name`, or nullptr when it does not change.
  [[nodiscard]] const ServiceChange* change_of(std::string_view name) const;
};

// The plan that turns the `running` definitions into `next`. Services are
// matched by name; a service whose keys are all equal is not in the plan.
ReloadPlan plan_reload(std::span<const ServiceSpec* const> running,
                       std::span<const ServiceSpec* const> next);

// "cmd, env changed" for the keys of a change; "db restarted" for a dependent.
std::string describe_cause(const ServiceChange& change);

}  // namespace luvsup::core
