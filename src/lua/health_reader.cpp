#include "lua/health_reader.hpp"

#include "lua/table_read.hpp"

#include <cstring>

namespace luvsup::lua {

namespace {

core::ProbeSpec::Kind kind_of(lua_State* L, const char* name) {
  using K = core::ProbeSpec::Kind;
  static const std::pair<const char*, K> k_kinds[] = {
      {"http", K::http}, {"tcp", K::tcp}, {"exec", K::exec},
      {"lua", K::lua},   {"all", K::all}, {"any", K::any},
  };
  for (const auto& [n, kind] : k_kinds) {
    if (name != nullptr && std::strcmp(name, n) == 0) {
      return kind;
    }
  }
  luaL_error(L, "stack loader: unknown probe kind '%s'", name != nullptr ? name : "?");
  return K::lua;
}

// stack: node -> node
void read_probe(lua_State* L, core::ProbeSpec& probe) {
  lua_getfield(L, -1, "kind"); // stack: node, kind
  probe.kind = kind_of(L, lua_tostring(L, -1));
  lua_pop(L, 1);
  probe.leaf = static_cast<int>(read_number(L, "leaf", 0));
  probe.timeout = read_number(L, "timeout", probe.timeout);
  switch (probe.kind) {
  case core::ProbeSpec::Kind::http:
    read_string(L, "url", probe.http.url);
    read_string(L, "method", probe.http.method);
    probe.http.tls_verify = read_bool(L, "tls_verify", true);
    probe.http.timeout = probe.timeout;
    for_each_in(L, "headers", [&] {
      probe.http.headers.emplace_back();
      lua_rawgeti(L, -1, 1);
      lua_rawgeti(L, -2, 2); // stack: ..., pair, name, value
      probe.http.headers.back().first = lua_tostring(L, -2);
      probe.http.headers.back().second = lua_tostring(L, -1);
      lua_pop(L, 2);
    });
    break;
  case core::ProbeSpec::Kind::tcp:
    read_string(L, "host", probe.host);
    probe.port = static_cast<int>(read_number(L, "port", 0));
    break;
  case core::ProbeSpec::Kind::exec:
    read_string_list(L, "argv", probe.argv);
    break;
  case core::ProbeSpec::Kind::all:
  case core::ProbeSpec::Kind::any:
    for_each_in(L, "children", [&] {
      probe.children.emplace_back();
      read_probe(L, probe.children.back());
    });
    break;
  case core::ProbeSpec::Kind::lua:
    lua_getfield(L, -1, "fn");  // stack: node, fn
    probe.lua_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    break;
  }
}

} // namespace

void read_health(lua_State* L, core::HealthSpec& out) {
  out.interval = read_number(L, "interval", out.interval);
  out.start_interval = read_number(L, "start_interval", out.start_interval);
  out.start_period = read_number(L, "start_period", out.start_period);
  out.fallback_grace = read_number(L, "fallback_grace", out.fallback_grace);
  out.retries = static_cast<int>(read_number(L, "retries", out.retries));
  out.success_threshold =
      static_cast<int>(read_number(L, "success_threshold", out.success_threshold));
  lua_getfield(L, -1, "probe"); // stack: health, probe
  read_probe(L, out.probe);
  lua_pop(L, 1);
  if (lua_getfield(L, -1, "fallback") == LUA_TTABLE) { // stack: health, fallback
    out.fallback.emplace();
    read_probe(L, *out.fallback);
  }
  lua_pop(L, 1);
}

void read_readiness(lua_State* L, core::ServiceSpec& spec) {
  if (lua_getfield(L, -1, "ready") == LUA_TTABLE) { // stack: svc, ready
    read_string(L, "log_pattern", spec.ready.log_pattern);
    spec.ready.notify = read_bool(L, "notify", false);
    spec.ready.fd = static_cast<int>(read_number(L, "fd", -1));
  }
  lua_pop(L, 1);
  spec.watchdog = read_number(L, "watchdog", 0);
  spec.start_timeout = read_number(L, "start_timeout", spec.start_timeout);
}

} // namespace luvsup::lua
