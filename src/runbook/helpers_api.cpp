#include "runbook/helpers_api.hpp"

#include "runbook/exec_call.hpp"
#include "runbook/http_calls.hpp"
#include "runbook/lua_args.hpp"
#include "runbook/lua_json.hpp"
#include "runbook/port_owner.hpp"
#include "runbook/scheduler.hpp"
#include "runbook/service_control.hpp"
#include "runbook/state_store.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <cstdlib>

namespace luvsup::runbook {

namespace {

constexpr int k_level = k_caller_of_shim;

// The running stack's environment, or a raise naming `call`.
Environment& environment_of(lua_State* L, const char* call) {
  Scheduler* scheduler = Scheduler::of(L);
  if (scheduler == nullptr) {
    luaL_error(L, "%s can only be used while luvsup runs the stack (in a hook or task)", call);
  }
  return scheduler->environment();
}

// --- port_in_use -----------------------------------------------------------

struct PortQuery {
  std::optional<PortHolder> holder;
  std::optional<std::string> service;
};

int port_body(lua_State* L) {
  const auto& query = *static_cast<PortQuery*>(lua_touserdata(L, 1));
  if (!query.holder) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 3);
  if (query.holder->pid) {
    lua_pushinteger(L, *query.holder->pid);
    lua_setfield(L, -2, "pid");
    lua_pushlstring(L, query.holder->command.data(), query.holder->command.size());
    lua_setfield(L, -2, "command");
  }
  if (query.service) {
    lua_pushlstring(L, query.service->data(), query.service->size());
    lua_setfield(L, -2, "service");
  }
  return 1;
}

int l_port_in_use(lua_State* L) {
  const lua_Integer port = luaL_checkinteger(L, 1);
  luaL_argcheck(L, port >= 1 && port <= 65535, 1, "a TCP port is 1 to 65535");
  ServiceControl* services = environment_of(L, "port_in_use").services;
  if (services == nullptr) {
    return luaL_error(L, "port_in_use: not available here (no services to attribute ports to)");
  }
  lua_settop(L, 0);
  return answer_with<PortQuery>(L, "port_in_use", port_body, [port, services](PortQuery& query) {
    query.holder = port_holder(static_cast<int>(port));
    if (query.holder && query.holder->pid) {
      query.service = services->service_of_pid(*query.holder->pid);
    }
  });
}

// --- state -----------------------------------------------------------------

struct StateCall {
  nlohmann::json value;
  std::string error;
};

// stack: 1 = the StateCall, 2 = key
int state_get_body(lua_State* L) {
  auto& call = *static_cast<StateCall*>(lua_touserdata(L, 1));
  if (call.value.is_discarded()) {
    lua_pushnil(L);
  } else {
    push_json(L, call.value);
  }
  return 1;
}

StateStore& store_of(lua_State* L, const char* call) {
  StateStore* store = environment_of(L, call).state;
  if (store == nullptr) {
    luaL_error(L, "%s: not available here (no state store)", call);
  }
  return *store;
}

int l_state_get(lua_State* L) {
  luaL_checkstring(L, 1);
  StateStore& store = store_of(L, "state.get");
  lua_settop(L, 1);
  size_t length = 0;
  const char* key = lua_tolstring(L, 1, &length);
  return answer_with<StateCall>(L, "state.get", state_get_body, [&](StateCall& call) {
    call.value = nlohmann::json(nlohmann::json::value_t::discarded);
    if (auto text = store.get(std::string_view(key, length))) {
      parse_json(*text, call.value, call.error); // the store holds only what dump() wrote
    }
  });
}

int l_state_set(lua_State* L) {
  luaL_checkstring(L, 1);
  luaL_checkany(L, 2);
  StateStore& store = store_of(L, "state.set");
  char error[200] = {};
  {
    StateCall call;
    try {
      size_t length = 0;
      const char* key = lua_tolstring(L, 1, &length);
      if (lua_isnil(L, 2)) {
        store.erase(std::string_view(key, length));
      } else if (to_json(L, 2, call.value, call.error)) {
        store.set(std::string_view(key, length), call.value.dump());
      } else {
        std::snprintf(error, sizeof error, "state.set: %s", call.error.c_str());
      }
    } catch (...) {
      std::snprintf(error, sizeof error, "state.set: out of memory");
    }
  }
  if (error[0] != '\0') {
    return luaL_error(L, "%s", error);
  }
  return 0;
}

// --- env -------------------------------------------------------------------

int l_env_index(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  const char* value = name != nullptr ? std::getenv(name) : nullptr;
  if (value == nullptr) {
    lua_pushnil(L);
  } else {
    lua_pushstring(L, value);
  }
  return 1;
}

int l_env_newindex(lua_State* L) {
  return luaL_error(L, "env is read-only (luvsup's own environment); give a command "
                       "variables with exec { ..., env = { NAME = \"value\" } }");
}

void push_env(lua_State* L) {
  static const luaL_Reg k_metamethods[] = {
      {"__index", l_env_index}, {"__newindex", l_env_newindex}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_newlib(L, k_metamethods);
  lua_pushliteral(L, "luvsup env");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

} // namespace

void open_helpers(lua_State* L) {
  static const luaL_Reg k_globals[] = {
      {"exec", l_exec}, {"notify", l_notify}, {"port_in_use", l_port_in_use}, {nullptr, nullptr}};
  static const luaL_Reg k_state[] = {
      {"get", l_state_get}, {"set", l_state_set}, {nullptr, nullptr}};
  lua_pushglobaltable(L);
  luaL_setfuncs(L, k_globals, 0);
  lua_pop(L, 1);
  push_http_library(L);
  lua_setglobal(L, "http");
  push_json_library(L);
  lua_setglobal(L, "json");
  push_env(L);
  lua_setglobal(L, "env");
  luaL_newlib(L, k_state);
  lua_setglobal(L, "state");
}

} // namespace luvsup::runbook
