// Reads a service's normalised `health` and `ready` tables (made by
// lua/luvsup/health.lua and spec.lua) into core::HealthSpec and ReadySpec.
#pragma once

#include "core/service_spec.hpp"

extern "C" {
#include <lua.h>
}

namespace luvsup::lua {

// stack: health -> health. Fills everything but the policy. Runs inside
// LuaState::run and may raise; holds no objects with destructors.
void read_health(lua_State* L, core::HealthSpec& out);

// stack: svc -> svc. Reads ready, watchdog and start_timeout. May raise.
void read_readiness(lua_State* L, core::ServiceSpec& spec);

} // namespace luvsup::lua
