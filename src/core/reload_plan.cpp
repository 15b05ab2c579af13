#include "core/reload_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace luvsup::core {

namespace {
using K = KeyEffect;
using S = ServiceSpec;

// A hook's own fingerprint, so a plan names the hook that changed.
template <HookKind Kind> bool hook_differs(const ServiceSpec& a, const ServiceSpec& b) {
  return a.hook_fingerprints[static_cast<size_t>(Kind)] != b.hook_fingerprints[static_cast<size_t>(Kind)];
}

// The reload rules. env carries the contents of every env_file too (the
// loader merges them), so editing an env file restarts the service.
// success_codes only judges the next exit, so it applies live; oneshot
// changes what the process is for, so it restarts.
constexpr KeyRule k_key_rules[] = {
    {"cmd", K::restart, &member_differs<&S::argv>},
    {"cwd", K::restart, &member_differs<&S::cwd>},
    {"env", K::restart, &member_differs<&S::env>},
    {"user", K::restart, &member_differs<&S::user>},
    {"group", K::restart, &member_differs<&S::group>},
    {"umask", K::restart, &member_differs<&S::umask>},
    {"limits", K::restart, &member_differs<&S::limits>},
    {"stdin", K::restart, &member_differs<&S::stdin_path>},
    {"success_codes", K::live, &member_differs<&S::success_codes>},
    {"depends_on", K::live, &member_differs<&S::depends_on>},
    {"restart", K::live, &member_differs<&S::restart_fingerprint>},
    {"stop", K::live, &member_differs<&S::stop>},
    {"log", K::restart, &member_differs<&S::log>},
    {"autostart", K::live, &member_differs<&S::autostart>},
    {"oneshot", K::restart, &member_differs<&S::oneshot>},
    // NOTIFY_SOCKET, WATCHDOG_USEC and the ready fd are set up at spawn.
    {"ready.notify", K::restart, [](const S& a, const S& b) { return a.ready.notify != b.ready.notify; }},
    {"ready.fd", K::restart, [](const S& a, const S& b) { return a.ready.fd != b.ready.fd; }},
    {"ready.log", K::live, [](const S& a, const S& b) { return a.ready.log_pattern != b.ready.log_pattern; }},
    {"watchdog", K::restart, &member_differs<&S::watchdog>},
    {"health", K::live, &member_differs<&S::health_fingerprint>},
    {"on_unhealthy", K::live, &member_differs<&S::on_unhealthy_fingerprint>},
    {"start_timeout", K::live, &member_differs<&S::start_timeout>},
    // Hooks apply live: a hook in flight finishes, but an outcome of the old
    // definition is dropped (Service::replace_spec); the next call runs the new function.
    {"before_start", K::live, &hook_differs<HookKind::before_start>},
    {"on_start", K::live, &hook_differs<HookKind::on_start>},
    {"on_ready", K::live, &hook_differs<HookKind::on_ready>},
    {"on_exit", K::live, &hook_differs<HookKind::on_exit>},
    {"on_crash_loop", K::live, &hook_differs<HookKind::on_crash_loop>},
    {"on_fatal", K::live, &hook_differs<HookKind::on_fatal>},
    {"after_stop", K::live, &hook_differs<HookKind::after_stop>},
    {"on_change", K::live, &hook_differs<HookKind::on_change>},
    {"hook_timeout", K::live, &member_differs<&S::hook_timeout>},
};

const ServiceSpec* find_spec(std::span<const ServiceSpec* const> specs, std::string_view name) {
  for (const ServiceSpec* spec : specs) {
    if (spec->name == name) {
      return spec;
    }
  }
  return nullptr;
}

}  // namespace

std::span<const KeyRule> key_rules() { return k_key_rules; }

const ServiceChange* ReloadPlan::change_of(std::string_view name) const {
  for (const auto& change : changed) {
    if (change.name == name) {
      return &change;
    }
  }
  return nullptr;
}

ReloadPlan plan_reload(std::span<const ServiceSpec* const> running,
                       std::span<const ServiceSpec* const> next) {
  ReloadPlan plan;
  std::vector<ServiceChange> changes;  // one per kept service, in the new order
  for (const ServiceSpec* spec : next) {
    const ServiceSpec* old = find_spec(running, spec->name);
    if (old == nullptr) {
      plan.added.push_back(spec->name);
      continue;
    }
    ServiceChange& change = changes.emplace_back();
    change.name = spec->name;
    for (const KeyRule& rule : k_key_rules) {
      if (rule.differs(*old, *spec)) {
        (rule.effect == K::restart ? change.restart_keys : change.live_keys).push_back(rule.key);
      }
    }
  }
  for (const ServiceSpec* spec : running) {
    if (find_spec(next, spec->name) == nullptr) {
      plan.removed.push_back(spec->name);
    }
  }
  // Dependents that asked for it restart with their dependencies, and so on
  // down the chain: repeat until nothing more is pulled in.
  std::set<std::string, std::less<>> restarting;
  for (const auto& change : changes) {
    if (change.restarts()) {
      restarting.insert(change.name);
    }
  }
  for (bool grew = true; grew;) {
    grew = false;
    for (auto& change : changes) {
      for (const Dependency& dep : find_spec(next, change.name)->depends_on) {
        if (dep.restart && restarting.count(dep.name) != 0 &&
            std::find(change.restarted_with.begin(), change.restarted_with.end(), dep.name) ==
                change.restarted_with.end()) {
          change.restarted_with.push_back(dep.name);
          grew = restarting.insert(change.name).second || grew;
        }
      }
    }
  }
  for (auto& change : changes) {
    if (!change.restart_keys.empty() || !change.live_keys.empty() ||
        !change.restarted_with.empty()) {
      plan.changed.push_back(std::move(change));
    }
  }
  return plan;
}

std::string describe_cause(const ServiceChange& change) {
  std::vector<std::string_view> keys = change.restart_keys;
  keys.insert(keys.end(), change.live_keys.begin(), change.live_keys.end());
  std::string text;
  if (!keys.empty()) {
    text = fmt::format("{} changed", fmt::join(keys, ", "));
  }
  if (!change.restarted_with.empty()) {
    text += fmt::format("{}{} restarted", text.empty() ? "" : "; ",
                        fmt::join(change.restarted_with, ", "));
  }
  return text;
}

}  // namespace luvsup::core
