// Where luvsup's own Lua library (lua/luvsup/*.lua, recipes/) lives, and the
// package.path a stack sees.
#pragma once

#include <string>

namespace luvsup::lua {

// The data directory, the first of:
//   $LUVSUP_DATA_DIR when set and non-empty;
//   <bindir>/../share/luvsup if it holds lua/luvsup/dsl.lua (an installed tree);
//   <bindir>/.. if it holds lua/luvsup/dsl.lua (the source tree: build/luvsup);
//   the compile-time LUVSUP_DATA_DIR (PREFIX/share/luvsup).
// <bindir> is the directory of /proc/self/exe. Never fails; the result may
// not exist when luvsup is neither installed nor run from its source tree.
std::string find_data_dir();

// package.path for a stack in `stack_dir`: the stack's own modules first,
// then luvsup's library and recipes, then `default_path` (Lua's default):
//   <stack_dir>/?.lua;<stack_dir>/?/init.lua;<data>/lua/?.lua;
//   <data>/lua/?/init.lua;<data>/?.lua;<default_path>
std::string package_path(const std::string& stack_dir, const std::string& data_dir,
                         const std::string& default_path);

}  // namespace luvsup::lua
