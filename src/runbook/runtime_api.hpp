// The part of the runbook API that belongs to the scheduler itself:
//
//   sleep(seconds)                 waits without blocking the supervisor
//   log.debug/info/warn/error(fmt, ...)
//                                  into luvsup's log, prefixed with the
//                                  service or task the code runs for
//   service("name")                a handle to a service, or nil, message
//   svc.name, svc.state, svc.pid, svc.restarts, svc.ready, svc.health
//   svc:restart(), svc:stop(), svc:start(), svc:signal("HUP")
//   svc:wait("healthy", timeout)   waits for a condition of a service
//
// and the coroutine wrappers of lua/luvsup/coroutines.lua.
#pragma once

extern "C" {
#include <lua.h>
}

#include <string>

namespace luvsup::runbook {

// Sets the globals above in `L` and wraps coroutine.resume/wrap. Needs the
// package path set (it requires luvsup.coroutines). May raise: call inside
// LuaState::run.
void open_runtime(lua_State* L);

// stack: ... -> ..., svc: a handle to the service `name`. May raise.
void push_service_handle(lua_State* L, const std::string& name);

}  // namespace luvsup::runbook
