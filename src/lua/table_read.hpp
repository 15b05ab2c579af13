// Reading fields of the DSL's normalised tables from C++.
//
// Each helper reads t[key] of the table on top of the stack and leaves the
// stack as it found it. They run inside LuaState::run, may raise, and so hold
// no objects with destructors: they write into objects owned by the caller.
#pragma once

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <string>
#include <vector>

namespace luvsup::lua {

// stack: t -> t; out = t[key] (must be a string or nil)
inline void read_string(lua_State* L, const char* key, std::string& out) {
  if (lua_getfield(L, -1, key) == LUA_TSTRING) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out.assign(s, len);
  } else if (!lua_isnil(L, -1)) {
    luaL_error(L, "stack loader: field '%s' is a %s, expected a string", key, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
}

// stack: t -> t; returns t[key] as a number, or `fallback` when it is not one.
inline lua_Number read_number(lua_State* L, const char* key, lua_Number fallback) {
  lua_Number value = fallback;
  if (lua_getfield(L, -1, key) == LUA_TNUMBER) {
    value = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return value;
}

// stack: t -> t; returns t[key] as a boolean, or `fallback` when it is not one.
inline bool read_bool(lua_State* L, const char* key, bool fallback) {
  bool value = fallback;
  if (lua_getfield(L, -1, key) == LUA_TBOOLEAN) {
    value = lua_toboolean(L, -1) != 0;
  }
  lua_pop(L, 1);
  return value;
}

// stack: t -> t; appends the strings of the list t[key] to `out`.
inline void read_string_list(lua_State* L, const char* key, std::vector<std::string>& out) {
  if (lua_getfield(L, -1, key) == LUA_TTABLE) {
    const lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i); // stack: t, list, s
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      out.emplace_back(s != nullptr ? s : "", s != nullptr ? len : 0);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

// stack: t -> t; calls fn for each element of the list t[key], with the
// element on top of the stack.
template <typename Fn> void for_each_in(lua_State* L, const char* key, Fn&& fn) {
  if (lua_getfield(L, -1, key) == LUA_TTABLE) {
    const lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, -1, i); // stack: t, list, element
      fn();
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

} // namespace luvsup::lua
