#include "runbook/lua_args.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <algorithm>
#include <cctype>
#include <cstdarg>
#include <cstring>

namespace luvsup::runbook {

namespace {

// Edit distance (insertions, deletions, substitutions and swaps of neighbours
// each count 1) of two short words, without allocating: words past
// k_max_word letters are too long to be typos of a key.
constexpr size_t k_max_word = 31;

size_t edit_distance(const char* a, size_t la, const char* b, size_t lb) {
  size_t d[k_max_word + 1][k_max_word + 1];
  for (size_t i = 0; i <= la; ++i) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= lb; ++j) {
    d[0][j] = j;
  }
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  for (size_t i = 1; i <= la; ++i) {
    for (size_t j = 1; j <= lb; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[la][lb];
}

// The key closest to `word` within distance 2 (or half the word), as
// lua/luvsup/util.lua's suggest does for the stack file, or nullptr.
const char* suggest(const char* word, size_t length, std::initializer_list<const char*> keys) {
  if (length > k_max_word) {
    return nullptr;
  }
  const char* best = nullptr;
  size_t best_distance = std::max<size_t>(2, length / 2) + 1;
  for (const char* key : keys) {
    const size_t key_length = std::strlen(key);
    if (key_length > k_max_word) {
      continue;
    }
    const size_t distance = edit_distance(word, length, key, key_length);
    if (distance < best_distance) {
      best = key;
      best_distance = distance;
    }
  }
  return best;
}

} // namespace

int protect(lua_State* L, lua_CFunction body, void* data, int nresults) {
  const int args = lua_gettop(L);
  if (!lua_checkstack(L, args + 2)) {
    // Unreachable for shims of a few arguments (a C function starts with
    // LUA_MINSTACK free slots); nil needs no allocation.
    lua_pushnil(L);
    return LUA_ERRMEM;
  }
  // A light C function, a light userdata and copies of values: no allocation.
  lua_pushcfunction(L, body);
  lua_pushlightuserdata(L, data);
  for (int i = 1; i <= args; ++i) {
    lua_pushvalue(L, i);
  }
  return lua_pcall(L, args + 1, nresults, 0);
}

void raise_at(lua_State* L, int level, const char* format, ...) {
  luaL_where(L, level);
  va_list args;
  va_start(args, format);
  lua_pushvfstring(L, format, args);
  va_end(args);
  lua_concat(L, 2);
  lua_error(L);
  __builtin_unreachable();
}

void check_keys(lua_State* L, int index, int level, const char* call,
                std::initializer_list<const char*> keys, bool allow_array) {
  index = lua_absindex(L, index);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1); // stack: key
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t length = 0;
      const char* key = lua_tolstring(L, -1, &length);
      const bool known = std::any_of(keys.begin(), keys.end(),
                                     [&](const char* k) { return std::strcmp(k, key) == 0; });
      if (!known) {
        const char* near = suggest(key, length, keys);
        if (near != nullptr) {
          raise_at(L, level, "%s: unknown key '%s'; did you mean '%s'?", call, key, near);
        }
        raise_at(L, level, "%s: unknown key '%s'", call, key);
      }
    } else if (!allow_array || !lua_isinteger(L, -1)) {
      raise_at(L, level, "%s: unexpected %s key in the options table", call, type_name(L, -1));
    }
  }
}

const char* type_name(lua_State* L, int index) {
  return luaL_typename(L, index);
}

} // namespace luvsup::runbook
