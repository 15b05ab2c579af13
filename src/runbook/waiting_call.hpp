// The contract of every Lua call that waits (exec, sleep, http.get, ...).
//
// A waiting call yields the hook's coroutine; the loop resumes it when the
// result is ready (OpenResty's cosockets). Lua errors longjmp through C++
// frames and lua_yield longjmps too, so a lua_CFunction of a waiting call is a
// thin shim and nothing with a destructor may be alive when it raises or
// yields:
//
//   int l_sleep(lua_State* L) {
//     const double seconds = luaL_checknumber(L, 1);       // may raise: nothing alive yet
//     runbook::Waiter& waiter = runbook::begin_wait(L, "sleep");  // raises outside a hook
//     if (!start_sleep(waiter, seconds)) {                 // noexcept C++ that starts the op
//       return luaL_error(L, "sleep: cannot start a timer");
//     }
//     return runbook::yield(L);                            // returns what complete() pushes
//   }
//
// start_sleep builds the operation, hands it to waiter.wait(), and arranges
// for the Completion it took from waiter.completion() to be called once with
// a function that pushes the call's results. Errors a caller should handle
// (a command that cannot start, a refused connection) are results,
// `nil, message` in the luv style; misuse raises.
#pragma once

extern "C" {
#include <lua.h>
}

#include <functional>
#include <memory>

namespace luvsup::runbook {

struct Environment;

// An operation a waiting call started (a timer, a child process, a
// transfer). Destroying it cancels the operation: a child's whole process
// group is killed, a transfer aborted, a timer stopped. After that its
// completion must not be called (it would be ignored).
class PendingOp {
public:
  virtual ~PendingOp() = default;
};

// Pushes a waiting call's results onto `L` (the coroutine that waited, when
// it resumes) and returns how many. Runs inside the coroutine, so it may
// raise (a memory error); it must not keep destructible objects alive across
// pushes that can raise (copy strings into the closure beforehand).
using ResultPusher = std::function<int(lua_State* L)>;

// Completes the wait. Call it once; calling it inline inside wait() is
// allowed: the scheduler resumes the coroutine from the loop later, never
// inline.
using Completion = std::function<void(ResultPusher push)>;

// The run (a hook or task coroutine) on behalf of which a waiting call is made.
class Waiter {
public:
  virtual ~Waiter() = default;
  // What waiting calls may use: the loop, the reaper, the HTTP client, ...
  virtual Environment& environment() = 0;
  // The completion for the wait about to start.
  virtual Completion completion() = 0;
  // Makes the run wait for `op`; the run owns it until it completes or the
  // run is cancelled (then `op` is destroyed, which cancels it).
  virtual void wait(std::unique_ptr<PendingOp> op) = 0;
  // The name of the service the run belongs to ("" for a stack-level hook or task).
  virtual const std::string& service() const = 0;
};

// The Waiter of the coroutine running `L`. Raises a Lua error naming `call`
// when `L` is not a hook's or task's coroutine ("sleep can only be called
// from a hook or task, not while the stack file loads") or cannot yield here
// (inside a metamethod or a C function such as table.sort).
Waiter& begin_wait(lua_State* L, const char* call);

// Yields the coroutine until the completion arrives; the values the
// ResultPusher pushes become the waiting call's return values. Use as
// `return runbook::yield(L);` with nothing destructible alive.
int yield(lua_State* L);

}  // namespace luvsup::runbook
