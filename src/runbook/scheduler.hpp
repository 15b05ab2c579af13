// Runs hooks and tasks as Lua coroutines that may wait without blocking the
// loop.
//
// One Scheduler per Lua state (a reload's new state gets its own; the old one
// lives while its runs do). start() makes a coroutine and resumes it from a
// loop callback; a waiting call (waiting_call.hpp) yields it and its
// completion queues the resumption, which again happens from a loop callback,
// never inline. Each run has an instruction and time budget for the Lua code
// it runs (summed over its resumptions, enforced by LuaState's count hook,
// which raises and, after an overrun, fires on every instruction of every
// coroutine of that run) and an optional wall-clock timeout that cancels it.
// coroutine.create/wrap/resume are wrapped so that a waiting call made inside
// a coroutine the script made itself yields through to the scheduler.
#pragma once

#include "lua/lua_state.hpp"
#include "runbook/environment.hpp"

#include <functional>
#include <memory>
#include <string>

namespace luvsup::runbook {

class Waiter;

// The budget of one hook or task run, over all its resumptions.
inline constexpr lua::Budget k_run_budget{50'000'000, 2.0};

struct RunInfo {
  std::string label;     // for the log: "web: before_start", "task backup"
  std::string service;   // the service it belongs to, "" for a stack-level run
  // Set when the service's own transition waits for this run (before_start):
  // then waiting on that service's readiness would never end and raises.
  bool holds_service = false;
  lua::Budget budget = k_run_budget;
  double timeout = 0;    // wall seconds until the run is cancelled; 0 = none
};

struct RunOutcome {
  enum class Status { returned, failed, timed_out };
  Status status = Status::returned;
  std::string error;  // failed: the error with its traceback; timed_out: "timed out after 5s"
};

// A run in flight; destroying it cancels the run deterministically (its
// coroutine is closed, its pending operation destroyed, `done` not called).
class RunHandle {
public:
  virtual ~RunHandle() = default;
};

class Scheduler : public std::enable_shared_from_this<Scheduler> {
public:
  Scheduler(lua::LuaState& state, Environment& environment);
  ~Scheduler();  // cancels every run still going
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Pushes the function to run and its arguments onto the new coroutine's
  // stack; returns the number of arguments. Runs protected; may raise.
  using Pusher = std::function<int(lua_State* co)>;
  // Reads the run's return values (stack indices 1..n of the coroutine).
  // Runs protected; may raise; must not keep destructibles across raising calls.
  using ResultReader = std::function<void(lua_State* co, int nresults)>;

  // Starts a run. `done` is called once, from a loop callback, unless the
  // handle is destroyed first. A run that fails or times out is logged with
  // its label and traceback before `done` is called.
  std::unique_ptr<RunHandle> start(RunInfo info, Pusher push, ResultReader results,
                                   std::function<void(RunOutcome)> done);

  // Runs `action` once the Lua code running now has yielded or returned (at
  // once, from the loop, when none runs). What Lua asks of the supervisor
  // (svc:restart(), svc:stop()) goes through here: the supervisor's work,
  // which may call into Lua itself, never runs inside a coroutine.
  void defer(std::function<void()> action);

  // The scheduler of the Lua state that owns `L`, or null.
  static Scheduler* of(lua_State* L);

  Environment& environment() { return m_environment; }
  // The run whose Lua code runs now, or null.
  [[nodiscard]] const RunInfo* current_run() const;
  // Runs in flight, for tests and status.
  [[nodiscard]] size_t active_runs() const;

  class Run;
  struct Impl;

private:
  friend Waiter& begin_wait(lua_State* L, const char* call);
  lua::LuaState& m_state;
  Environment& m_environment;
  std::unique_ptr<Impl> m_impl;
};

// Pushes the value a waiting call yields (for the coroutine wrappers of
// lua/luvsup/coroutines.lua, which pass such a yield on to the scheduler).
void push_wait_marker(lua_State* L);

}  // namespace luvsup::runbook
