// What runbook code may do to the services of the running stack: the
// operations behind svc:restart(), svc:stop(), svc.state, service("name"),
// svc:wait(...) and port_in_use's owner lookup.
//
// Implemented on core::Supervisor (src/core/supervisor_control.cpp); the Lua
// bindings (src/runbook/service_handle.cpp) look services up by name on every
// call, so a handle to a removed service fails cleanly instead of dangling.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace luvsup::runbook {

struct ServiceSnapshot {
  std::string name;
  std::string state;     // core::to_string(ProcState): "running", "backoff", ...
  pid_t pid = -1;        // main pid, -1 when none
  int restarts = 0;
  bool ready = false;
  std::string health;    // "none", "starting", "healthy", "unhealthy"
};

// A condition being waited for; destroying it stops the wait (the callback is
// then never called).
class ConditionWatch {
public:
  virtual ~ConditionWatch() = default;
};

class ServiceControl {
public:
  virtual ~ServiceControl() = default;

  virtual std::optional<ServiceSnapshot> find(std::string_view name) const = 0;

  // Each returns "" on success or why it could not (no such service, ...).
  // restart: a running service is stopped and restarted through its restart
  // policy (its backoff and restart budget, like a crash: cause
  // restarted_by_hook); a service in backoff keeps its pending restart; a
  // stopped one is started. stop/start act like the CLI's, without
  // persisting a hold. signal sends `sig` to every process of the service.
  virtual std::string restart(std::string_view name) = 0;
  virtual std::string stop(std::string_view name) = 0;
  virtual std::string start(std::string_view name) = 0;
  virtual std::string signal(std::string_view name, int sig) = 0;

  // Calls `met("")` once `name` meets `condition` ("started", "healthy" =
  // ready, "completed", "stopped" = at rest and not running), or
  // `met(reason)` when it never can any more (the service went fatal, was
  // removed). Checked at once too, but `met` is never called inline: it runs
  // after the current event has been applied.
  virtual std::unique_ptr<ConditionWatch> watch(std::string_view name, std::string condition,
                                                std::function<void(std::string error)> met) = 0;

  // The service a process belongs to (by its cgroup or environment tag), if any.
  virtual std::optional<std::string> service_of_pid(pid_t pid) const = 0;
};

}  // namespace luvsup::runbook
