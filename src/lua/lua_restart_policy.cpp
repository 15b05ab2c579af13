#include "lua/lua_restart_policy.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstring>

namespace luvsup::lua {

namespace {

// The cause as Lua sees it: an identifier-like name ("spawn_failed").
const char* cause_name(core::ExitCause cause) {
  switch (cause) {
  case core::ExitCause::crashed: return "crashed";
  case core::ExitCause::completed: return "completed";
  case core::ExitCause::spawn_failed: return "spawn_failed";
  case core::ExitCause::killed_by_health: return "killed_by_health";
  case core::ExitCause::stopped_by_user: return "stopped_by_user";
  case core::ExitCause::restarted_by_reload: return "restarted_by_reload";
  case core::ExitCause::shutdown: return "shutdown";
  case core::ExitCause::start_refused: return "start_refused";
  case core::ExitCause::restarted_by_hook: return "restarted_by_hook";
  }
  return "crashed";
}

// Pushes an ExitInfo table (see lua/luvsup/backoff.lua). May raise.
void push_exit(lua_State* L, const core::ExitRecord& rec) {
  lua_createtable(L, 0, 8);  // stack: exit
  lua_pushstring(L, cause_name(rec.cause));
  lua_setfield(L, -2, "cause");
  if (rec.status.signal == 0 && rec.status.code >= 0) {
    lua_pushinteger(L, rec.status.code);
    lua_setfield(L, -2, "code");
  }
  if (rec.status.signal != 0) {
    const char* abbrev = sigabbrev_np(rec.status.signal);
    if (abbrev != nullptr) {
      lua_pushstring(L, abbrev);
    } else {
      lua_pushinteger(L, rec.status.signal);
    }
    lua_setfield(L, -2, "signal");
  }
  lua_pushboolean(L, rec.status.core_dumped);
  lua_setfield(L, -2, "core_dumped");
  lua_pushboolean(L, rec.success);
  lua_setfield(L, -2, "success");
  lua_pushnumber(L, rec.uptime);
  lua_setfield(L, -2, "uptime");
  lua_pushnumber(L, rec.time);
  lua_setfield(L, -2, "time");
  if (!rec.error.empty()) {
    lua_pushlstring(L, rec.error.data(), rec.error.size());
    lua_setfield(L, -2, "error");
  }
}

// Pushes a ServiceInfo table. May raise.
void push_service(lua_State* L, const core::ServiceView& service) {
  lua_createtable(L, 0, 4);  // stack: svc
  lua_pushlstring(L, service.name.data(), service.name.size());
  lua_setfield(L, -2, "name");
  lua_pushboolean(L, service.oneshot);
  lua_setfield(L, -2, "oneshot");
  lua_pushinteger(L, service.restarts);
  lua_setfield(L, -2, "restarts");
  lua_createtable(L, static_cast<int>(service.history.size()), 0);  // stack: svc, exits
  lua_Integer i = 0;
  for (const core::ExitRecord& rec : service.history) {
    push_exit(L, rec);  // stack: svc, exits, exit
    lua_rawseti(L, -2, ++i);
  }
  lua_setfield(L, -2, "exits");  // stack: svc
}

}  // namespace

LuaRestartPolicy::LuaRestartPolicy(std::shared_ptr<LuaState> state, LuaRef decide, LuaRef policy,
                                   std::string service_name, Budget budget)
    : m_state(std::move(state)), m_decide(std::move(decide)), m_policy(std::move(policy)),
      m_name(std::move(service_name)), m_budget(budget) {}

core::RestartDecision LuaRestartPolicy::decide(const core::ServiceView& service,
                                               const core::ExitRecord& exit) {
  core::RestartDecision decision;
  bool has_delay = false;
  double delay = 0;
  bool crash_looping = false;
  std::string reason;
  auto error = m_state->run(
      [&](lua_State* L) {
        luaL_checkstack(L, 8, "restart policy");
        m_decide.push(L);  // stack: decide
        m_policy.push(L);  // stack: decide, policy
        push_service(L, service);
        push_exit(L, exit);  // stack: decide, policy, svc, exit
        lua_call(L, 3, 3);   // stack: delay, crash_looping, reason
        if (lua_type(L, -3) == LUA_TNUMBER) {
          has_delay = true;
          delay = lua_tonumber(L, -3);
        } else if (!lua_isnil(L, -3)) {
          luaL_error(L, "backoff.decide returned a %s delay", luaL_typename(L, -3));
        }
        crash_looping = lua_toboolean(L, -2) != 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
          size_t len = 0;
          const char* s = lua_tolstring(L, -1, &len);
          reason.assign(s, len);
        }
      },
      m_budget);
  if (!error && has_delay && !(std::isfinite(delay) && delay >= 0)) {
    error = "restart policy returned an invalid delay";
  }
  if (error) {
    spdlog::error("{}: restart policy failed: {}", m_name, *error);
    decision = core::DefaultBackoff().decide(service, exit);
    decision.policy_failed = true;
    return decision;
  }
  if (has_delay) {
    decision.delay = delay;
  }
  decision.crash_looping = crash_looping;
  decision.reason = std::move(reason);
  return decision;
}

}  // namespace luvsup::lua
