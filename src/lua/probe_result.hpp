// A probe's result as Lua sees it: { ok, status, latency, error, output,
// timed_out }, for health verdicts and the on_unhealthy hook.
#pragma once

#include "health/probe.hpp"

extern "C" {
#include <lua.h>
}

namespace luvsup::lua {

// stack: ... -> ..., result. May raise (memory).
void push_probe_result(lua_State* L, const health::ProbeResult& r);

// stack: ..., table -> ..., table: sets the result's fields on the table on
// top (a table of the previous round is refilled in place). May raise.
void fill_probe_result(lua_State* L, const health::ProbeResult& r);

}  // namespace luvsup::lua
