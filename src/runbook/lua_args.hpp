// What the C functions of runbook calls share for reading their arguments.
//
// A Lua error longjmps through C++ frames, skipping destructors, so a shim
// that needs C++ objects (a request, a JSON document) keeps them in its own
// frame and does every Lua API call that may raise inside protect(): a
// lua_pcall of a plain C function. Once protect() returns, the shim lets its
// C++ objects go and only then re-raises the error protect() left.
#pragma once

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <initializer_list>

namespace luvsup::runbook {

// The level (as luaL_where counts: 0 = the running function) of the Lua code
// that called a shim, seen from a body the shim runs through protect():
// 0 = the body, 1 = the shim, 2 = its caller.
inline constexpr int k_caller_of_shim = 2;

// Calls `body` protected, with `data` as a light userdata at index 1 and the
// values on the calling shim's stack (its arguments) from index 2 on.
// Returns LUA_OK with `nresults` results pushed, or an error status with the
// error object on top. Never raises.
int protect(lua_State* L, lua_CFunction body, void* data, int nresults = 0);

// The end of a shim that answers from C++ data: makes a Data, fills it with
// `fill` (C++ that may throw), pushes what `body` makes of it (through
// protect(), with the Data at index 1) and returns the number of values
// pushed; raises what `body` raised, or "<call>: out of memory", once the
// Data is gone.
template <typename Data, typename Fill>
int answer_with(lua_State* L, const char* call, lua_CFunction body, Fill fill) {
  const int base = lua_gettop(L);
  int status = LUA_OK;
  bool failed = false;
  {
    Data data;
    try {
      fill(data);
    } catch (...) {
      failed = true;
    }
    if (!failed) {
      status = protect(L, body, &data, LUA_MULTRET);
    }
  }
  if (failed) {
    return luaL_error(L, "%s: out of memory", call);
  }
  return status == LUA_OK ? lua_gettop(L) - base : lua_error(L);
}

// Raises "file:line: <message>" naming the Lua code `level` frames up.
[[noreturn]] void raise_at(lua_State* L, int level, const char* format, ...);

// Runs `fill` (C++ that may throw, making no Lua call that can raise) inside
// a body; raises "<call>: out of memory" at the shim's caller instead of
// letting an exception cross Lua's C frames.
template <typename Fill> void guarded(lua_State* L, const char* call, Fill fill) {
  bool ok = false;
  try {
    fill();
    ok = true;
  } catch (...) {
  }
  if (!ok) {
    raise_at(L, k_caller_of_shim, "%s: out of memory", call);
  }
}

// Raises at `level`, for the option table at `index`, on the first string key
// that is not in `keys` ("exec: unknown key 'timout'; did you mean
// 'timeout'?"), and on integer keys unless `allow_array`.
void check_keys(lua_State* L, int index, int level, const char* call,
                std::initializer_list<const char*> keys, bool allow_array);

// The name of the type of the value at `index`, for messages.
const char* type_name(lua_State* L, int index);

} // namespace luvsup::runbook
