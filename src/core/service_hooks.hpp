// The seam between the service state machine and its Lua hooks.
//
// The lifecycle (service.cpp, supervisor.cpp) decides *when* a hook runs and
// what waits for it; the hook itself runs as a Lua coroutine behind this
// interface (lua::LuaServiceHooks, on runbook::Scheduler), so unit tests
// drive the lifecycle with a fake that finishes hooks on command.
//
// Hooks that hold up a transition: before_start (the spawn waits; a refusal
// or a failure counts as a failed start, decided by the restart policy),
// on_exit (a restart waits for it), after_stop (the service is not stopped
// until it returns; at shutdown bounded again by the stop timeout). All other
// hooks hold nothing up. A hook that fails or times out is logged with its
// traceback by the implementation and reported here as failed.
#pragma once

#include "core/exit_record.hpp"
#include "core/health_status.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace luvsup::core {

// on_change fires when a file the service watches (its `watch` key) changes.
enum class HookKind { before_start, on_start, on_ready, on_exit, on_unhealthy, on_crash_loop, on_fatal, after_stop, on_change };
inline constexpr int k_hook_kinds = 9;
std::string_view to_string(HookKind kind);  // "before_start", ...

// What an on_unhealthy hook asks for: "restart" (the default), "wait"
// (keep it running and give it a fresh round of retries), nil (nothing).
enum class UnhealthyAction { restart, wait, none };

// The arguments a hook gets besides its service handle.
struct HookContext {
  const ExitRecord* exit = nullptr;        // on_exit: the exit (code, signal, uptime, cause)
  int restarts = 0;                        // on_exit: restarts so far
  const HealthStatus* health = nullptr;    // on_unhealthy: the failing result
  std::string path;                        // on_change: the file that changed
};

struct HookOutcome {
  enum class Status { returned, failed, timed_out };
  Status status = Status::returned;
  std::string error;   // failed or timed_out: what happened (with traceback)
  // before_start: false when it returned false (then `reason` is its second
  // return value, or "refused by before_start").
  bool allowed = true;
  std::string reason;
  UnhealthyAction action = UnhealthyAction::restart;  // on_unhealthy only
};

// A hook in flight. Destroying it cancels the hook deterministically: its
// coroutine is closed, its pending commands are killed and `done` is never
// called.
class RunningHook {
public:
  virtual ~RunningHook() = default;
};

// A service's hooks (implemented by lua::LuaServiceHooks). Never throws.
class ServiceHooks {
public:
  virtual ~ServiceHooks() = default;
  // Whether the service (or the stack-wide defaults) defines the hook.
  virtual bool has(HookKind kind) const = 0;
  // Starts the hook for service `name`. `done` runs once, from a loop
  // callback, never inline in run(); the hook's own timeout is enforced by the
  // implementation (a timed-out hook reports Status::timed_out).
  virtual std::unique_ptr<RunningHook> run(HookKind kind, const std::string& name,
                                           const HookContext& context,
                                           std::function<void(HookOutcome)> done) = 0;
};

}  // namespace luvsup::core
