// runbook::ServiceControl on the Supervisor: what hooks do to services.
//
// Every operation goes through the Supervisor's event queue, so a hook's
// restart is one more event of the state machine, applied like any other: a
// running service is stopped and restarted through its restart policy (cause
// restarted_by_hook), so a runbook cannot hot-loop it. Watches are checked on
// every state change and after every drain of the queue; a condition met (or
// one that can no longer be) is latched then and delivered from a zero timer,
// never inline.
#pragma once

#include "core/platform.hpp"
#include "runbook/service_control.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace luvsup::core {

class Service;
class Supervisor;

class SupervisorControl final : public runbook::ServiceControl {
public:
  SupervisorControl(Supervisor& supervisor, Platform& platform);
  ~SupervisorControl() override;

  std::optional<runbook::ServiceSnapshot> find(std::string_view name) const override;
  std::string restart(std::string_view name) override;
  std::string stop(std::string_view name) override;
  std::string start(std::string_view name) override;
  std::string signal(std::string_view name, int sig) override;
  std::unique_ptr<runbook::ConditionWatch> watch(std::string_view name, std::string condition,
                                                 std::function<void(std::string error)> met) override;
  std::optional<std::string> service_of_pid(pid_t pid) const override;

  // Re-checks the watches on `service` (it changed state), or on every
  // service (after a drain: readiness is not a state).
  void check(const Service& service);
  void check_all();
  // A reload removed `name`: its watches fail.
  void removed(const std::string& name);

  // The conditions watch() accepts.
  static bool known_condition(const std::string& condition);

private:
  struct Watch {
    uint64_t id;
    std::string name;
    std::string condition;
    std::function<void(std::string)> met;
    std::optional<std::string> result;  // latched: "" met, else why it never can be
  };
  using Watches = std::vector<Watch>;
  class Handle;

  // "" when `condition` holds for `service` (null: not in the stack), the
  // reason when it never can, nullopt while it may still.
  std::optional<std::string> verdict(const Service* service, const std::string& name,
                                     const std::string& condition) const;
  void latch(Watch& watch, std::string result);
  void deliver();
  // The service `name` refers to for an operation, or null with `error` set.
  Service* target(std::string_view name, std::string& error) const;
  // As target(), and also refused while the stack shuts down: for the
  // requests that would bring a process up.
  Service* target_to_run(std::string_view name, std::string& error) const;

  Supervisor& m_supervisor;
  Platform& m_platform;
  std::shared_ptr<Watches> m_watches;  // shared with the handles, which outlive nothing
  std::unique_ptr<Timer> m_deliver_timer;
  uint64_t m_next_id = 1;
};

}  // namespace luvsup::core
