#include "lua/module_searcher.hpp"

#include "core/content_hash.hpp"
#include "os/file_text.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <string>

namespace luvsup::lua {

namespace {

// Its address keys the count of modules loaded from bytecode in the registry.
const char k_bytecode_count_key = 0;

// Pushes `module`'s bytecode loaded as `filename` when that file's bytes are
// the ones it was compiled from; returns false, leaving the stack as it was,
// otherwise. lua_load is a protected call: no Lua error escapes it, so the
// strings here are destroyed on every path.
bool load_embedded(lua_State* L, const EmbeddedModule& module, const char* filename) noexcept {
  try {
    const std::optional<std::string> source = os::read_file(filename);
    if (!source || core::content_hash(*source) != module.source_hash) {
      return false;
    }
    const std::optional<std::string> bytecode =
        with_chunk_name(module, std::string("@") + filename);
    if (!bytecode) {
      return false;
    }
    if (luaL_loadbufferx(L, bytecode->data(), bytecode->size(), filename, "b") != LUA_OK) {
      lua_pop(L, 1);  // the message: the text says the same or better
      return false;
    }
    return true;
  } catch (...) {
    return false;  // out of memory: the text path reports it
  }
}

void count_from_bytecode(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &k_bytecode_count_key);  // stack: count
  const lua_Integer count = lua_tointeger(L, -1);
  lua_pop(L, 1);
  lua_pushinteger(L, count + 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &k_bytecode_count_key);
}

// package.searchers[2]; upvalues: the package table and package.searchpath.
// Lua's searcher_Lua with load_module_file instead of luaL_loadfile.
int search_lua_file(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_getfield(L, lua_upvalueindex(1), "path");  // stack: name, searchpath, name, path
  if (lua_tostring(L, -1) == nullptr) {
    return luaL_error(L, "'package.path' must be a string");
  }
  lua_call(L, 2, 2);  // stack: name, filename | nil, nil | message
  if (lua_isnil(L, 2)) {
    return 1;  // the files tried, for require's message
  }
  const char* filename = lua_tostring(L, 2);
  if (load_module_file(L, name, filename, embedded_modules()) != LUA_OK) {
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, filename,
                      lua_tostring(L, -1));
  }
  lua_pushvalue(L, 2);  // stack: name, filename, nil, chunk, filename
  return 2;
}

}  // namespace

void install_module_searcher(lua_State* L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");  // stack: package, searchers
  lua_pushvalue(L, -2);
  lua_getfield(L, -1, "searchpath");  // stack: package, searchers, package, searchpath
  lua_pushcclosure(L, search_lua_file, 2);
  lua_rawseti(L, -2, 2);  // stack: package, searchers
  lua_pop(L, 2);
}

int load_module_file(lua_State* L, const char* name, const char* filename,
                     std::span<const EmbeddedModule> modules) {
  const EmbeddedModule* module = find_embedded_module(modules, name);
  if (module != nullptr && load_embedded(L, *module, filename)) {
    count_from_bytecode(L);
    return LUA_OK;
  }
  // Text only: a file that holds bytecode could corrupt luvsup's memory
  // (Lua does not check a binary chunk), and every module is source.
  return luaL_loadfilex(L, filename, "t");
}

int modules_from_bytecode(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &k_bytecode_count_key);
  const int count = static_cast<int>(lua_tointeger(L, -1));
  lua_pop(L, 1);
  return count;
}

}  // namespace luvsup::lua
