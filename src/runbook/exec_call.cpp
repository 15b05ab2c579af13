#include "runbook/exec_call.hpp"

#include "runbook/command_runner.hpp"
#include "runbook/environment.hpp"
#include "runbook/lua_args.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <cstring>

namespace luvsup::runbook {

namespace {

constexpr int k_level = k_caller_of_shim;

// What the protected body reads the arguments into.
struct ExecCall {
  ExecRequest request;
};

// Copies the string at `index` (a string or a number, converted in place
// first: that may raise, which is fine inside a body) without throwing.
void copy_string(lua_State* L, int index, std::string& to) {
  size_t length = 0;
  const char* text = lua_tolstring(L, index, &length);
  guarded(L, "exec", [&] { to.assign(text, length); });
}

void add_string(lua_State* L, int index, std::vector<std::string>& to) {
  guarded(L, "exec", [&] { to.emplace_back(); });
  copy_string(L, index, to.back());
}

void read_argv(lua_State* L, int table, ExecRequest& request) {
  const auto n = static_cast<lua_Integer>(lua_rawlen(L, table));
  if (n == 0) {
    raise_at(L, k_level,
             "exec: no command: give exec { \"program\", \"arg\", ... } or exec \"shell command\"");
  }
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, table, i);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
      raise_at(L, k_level, "exec: argument %d is a %s; the command and its arguments are strings",
               static_cast<int>(i), type_name(L, -1));
    }
    lua_pushvalue(L, -1); // convert a copy: the table keeps its number
    add_string(L, -1, request.argv);
    lua_pop(L, 2);
  }
}

void read_env(lua_State* L, int table, ExecRequest& request) {
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      raise_at(L, k_level, "exec: env keys are variable names (got a %s key)", type_name(L, -2));
    }
    const char* name = lua_tostring(L, -2);
    if (name[0] == '\0' || std::strchr(name, '=') != nullptr) {
      raise_at(L, k_level, "exec: env key '%s' is not a variable name", name);
    }
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
      raise_at(L, k_level, "exec: env.%s is a %s; give a string", lua_tostring(L, -2),
               type_name(L, -1));
    }
    guarded(L, "exec", [&] { request.env.emplace_back(); });
    copy_string(L, -2, request.env.back().first);
    lua_pushvalue(L, -1);
    copy_string(L, -1, request.env.back().second);
    lua_pop(L, 2); // stack: key
  }
}

void read_options(lua_State* L, int options, bool with_argv, ExecRequest& request) {
  check_keys(L, options, k_level, "exec", {"timeout", "cwd", "env", "stdin"}, with_argv);
  lua_getfield(L, options, "timeout");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0)) {
      raise_at(L, k_level, "exec: timeout must be a positive number of seconds (got %s)",
               luaL_tolstring(L, -1, nullptr));
    }
    request.timeout = lua_tonumber(L, -1);
  }
  lua_getfield(L, options, "cwd");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      raise_at(L, k_level, "exec: cwd must be a directory path (got a %s)", type_name(L, -1));
    }
    copy_string(L, -1, request.cwd);
  }
  lua_getfield(L, options, "env");
  if (!lua_isnil(L, -1)) {
    if (!lua_istable(L, -1)) {
      raise_at(L, k_level, "exec: env must be a table of NAME = value (got a %s)",
               type_name(L, -1));
    }
    read_env(L, lua_absindex(L, -1), request);
  }
  lua_getfield(L, options, "stdin");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      raise_at(L, k_level, "exec: stdin must be a string (got a %s)", type_name(L, -1));
    }
    guarded(L, "exec", [&] { request.stdin_text.emplace(); });
    copy_string(L, -1, *request.stdin_text);
  }
}

// stack: 1 = the ExecCall, 2 = the command (table or string), 3 = options of a string command
int exec_body(lua_State* L) {
  ExecRequest& request = static_cast<ExecCall*>(lua_touserdata(L, 1))->request;
  if (lua_type(L, 2) == LUA_TSTRING) {
    for (const char* word : {"/bin/sh", "-c"}) {
      lua_pushstring(L, word);
      add_string(L, -1, request.argv);
      lua_pop(L, 1);
    }
    add_string(L, 2, request.argv);
    if (lua_istable(L, 3)) {
      read_options(L, 3, false, request);
    } else if (!lua_isnoneornil(L, 3)) {
      raise_at(L, k_level, "exec: the options of a shell command are a table (got a %s)",
               type_name(L, 3));
    }
  } else if (lua_istable(L, 2)) {
    if (!lua_isnoneornil(L, 3)) {
      raise_at(L, k_level,
               "exec: put the options in the command table: exec { \"cmd\", timeout = 5 }");
    }
    read_argv(L, 2, request);
    read_options(L, 2, true, request);
  } else {
    raise_at(L, k_level,
             "exec: give a command: exec { \"program\", \"arg\", ... } or exec \"shell command\" "
             "(got a %s)",
             type_name(L, 2));
  }
  return 0;
}

int push_exec_result(lua_State* L, const ExecResult& result) {
  if (!result.error.empty()) {
    lua_pushnil(L);
    lua_pushlstring(L, result.error.data(), result.error.size());
    return 2;
  }
  lua_createtable(L, 0, 5);
  if (result.signal == 0) {
    lua_pushinteger(L, result.code);
    lua_setfield(L, -2, "code");
  } else {
    lua_pushinteger(L, result.signal);
    lua_setfield(L, -2, "signal");
  }
  lua_pushlstring(L, result.out.data(), result.out.size());
  lua_setfield(L, -2, "stdout");
  lua_pushlstring(L, result.err.data(), result.err.size());
  lua_setfield(L, -2, "stderr");
  lua_pushboolean(L, result.timed_out ? 1 : 0);
  lua_setfield(L, -2, "timed_out");
  return 1;
}

// Starts the command for `waiter`; returns why it cannot, or nullptr.
const char* start_exec(Waiter& waiter, const ExecRequest& request) noexcept {
  CommandRunner* runner = waiter.environment().commands;
  if (runner == nullptr) {
    return "exec: not available here (luvsup check does not run commands)";
  }
  try {
    Completion complete = waiter.completion();
    waiter.wait(runner->run(request, [complete](ExecResult result) {
      complete(
          [result = std::move(result)](lua_State* co) { return push_exec_result(co, result); });
    }));
  } catch (...) {
    return "exec: out of memory";
  }
  return nullptr;
}

} // namespace

int l_exec(lua_State* L) {
  Waiter& waiter = begin_wait(L, "exec");
  lua_settop(L, 2);
  const char* error = nullptr;
  int status = LUA_OK;
  {
    ExecCall call;
    status = protect(L, exec_body, &call);
    if (status == LUA_OK) {
      error = start_exec(waiter, call.request);
    }
  }
  if (status != LUA_OK) {
    return lua_error(L);
  }
  if (error != nullptr) {
    return luaL_error(L, "%s", error);
  }
  return yield(L);
}

} // namespace luvsup::runbook
