#include "lua/probe_result.hpp"

namespace luvsup::lua {

void push_probe_result(lua_State* L, const health::ProbeResult& r) {
  // Room for the judge's own fields too (summary, verdict_ok, verdict_error):
  // a table that grows is rehashed.
  lua_createtable(L, 0, 9);
  fill_probe_result(L, r);
}

void fill_probe_result(lua_State* L, const health::ProbeResult& r) {
  lua_pushboolean(L, r.ok);
  lua_setfield(L, -2, "ok");
  lua_pushinteger(L, r.status);
  lua_setfield(L, -2, "status");
  lua_pushnumber(L, r.latency);
  lua_setfield(L, -2, "latency");
  lua_pushlstring(L, r.error.data(), r.error.size());
  lua_setfield(L, -2, "error");
  lua_pushlstring(L, r.output.data(), r.output.size());
  lua_setfield(L, -2, "output");
  lua_pushboolean(L, r.timed_out);
  lua_setfield(L, -2, "timed_out");
}

}  // namespace luvsup::lua
