// The runbook API a stack's Lua state gets: the waiting calls exec, http.get,
// http.post and notify, and the helpers json, port_in_use, env and state.
// (sleep, log.* and service handles are registered by the scheduler's side.)
#pragma once

extern "C" {
#include <lua.h>
}

namespace luvsup::runbook {

// Sets the globals exec, http, notify, json, port_in_use, env and state in
// `L`. May raise (memory): call it inside a protected LuaState::run. Calls
// that need luvsup's environment find it through Scheduler::of(L) when they
// are called, and raise a clear error when there is none (the stack file is
// loading, or `luvsup check` runs it) or it lacks what they need.
void open_helpers(lua_State* L);

} // namespace luvsup::runbook
