// How a luvsup Lua state finds and loads modules from files: Lua's own file
// searcher (package.searchers[2]), except that luvsup's modules load from the
// bytecode compiled into the binary (embedded_module.hpp) when their file is
// the one the build compiled. Parsing lua/luvsup/*.lua was 30 % of the work
// of loading a stack, and every reload makes a new state that loads them
// again. The file stays authoritative: a module file edited after the build,
// or a user's module of the same name with other contents, is parsed from
// its text, as is any other module.
#pragma once

extern "C" {
#include <lua.h>
}

#include "lua/embedded_module.hpp"

#include <span>

namespace luvsup::lua {

// Replaces package.searchers[2] of `L` with a searcher that finds a module
// on package.path as Lua's does (same results, same messages) and loads it
// with load_module_file. The standard libraries must be open; the stack is
// left as it was. Raises on a memory error.
void install_module_searcher(lua_State* L);

// Pushes the chunk of module `name` from `filename`, as
// luaL_loadfilex(L, filename, "t") does (a file holding bytecode is refused:
// Lua does not check binary chunks): when `modules` holds an entry
// for `name` whose source hash is that of the file's bytes, its bytecode
// named "@<filename>" (the name the text would get), else (also when the
// bytecode does not load, e.g. under another Lua release) the file's text.
// Returns lua_load's status; on failure the error message is pushed instead.
int load_module_file(lua_State* L, const char* name, const char* filename,
                     std::span<const EmbeddedModule> modules);

// How many modules `L` has loaded from embedded bytecode. Does not raise.
int modules_from_bytecode(lua_State* L);

}  // namespace luvsup::lua
