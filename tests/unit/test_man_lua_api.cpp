// man/luvsup-lua.7 documents every function the runbook API adds to a Lua
// state: each global (and each function of a global table) luvsup installs,
// and each method of a service handle, must be named on a ".Ss", ".It Fn" or
// ".It Va" line (a table's own ".Ss" line covers its members).
#include "lua/data_dir.hpp"
#include "lua/lua_state.hpp"
#include "runbook/helpers_api.hpp"
#include "runbook/runtime_api.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace {

// The names documented as headings or items of luvsup-lua(7).
std::set<std::string> documented_names() {
  std::ifstream in(luvsup::lua::find_data_dir() + "/man/luvsup-lua.7");
  REQUIRE(in);
  std::set<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".Ss ", 0) != 0 && line.rfind(".It Fn ", 0) != 0 && line.rfind(".It Va ", 0) != 0) {
      continue;
    }
    for (char& c : line) {
      if (c == ',') {
        c = ' ';
      }
    }
    std::istringstream words(line);
    for (std::string word; words >> word;) {
      names.insert(word);
    }
  }
  return names;
}

// "name" for each global function luvsup adds, "table.member" for each
// function of a global table it adds, "svc:method" for handle methods.
std::set<std::string> api_names() {
  luvsup::lua::LuaState plain;
  luvsup::lua::LuaState state;
  std::set<std::string> before, names;
  const std::string path = luvsup::lua::package_path(".", luvsup::lua::find_data_dir(), "");
  auto list_globals = [](lua_State* L, std::set<std::string>& out) {
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_type(L, -2) == LUA_TSTRING) {
        out.insert(lua_tostring(L, -2));
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  };
  REQUIRE_FALSE(plain.run([&](lua_State* L) { list_globals(L, before); }));
  auto error = state.run([&](lua_State* L) {
    lua_getglobal(L, "package");
    lua_pushstring(L, path.c_str());
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    luvsup::runbook::open_runtime(L);
    luvsup::runbook::open_helpers(L);
    std::set<std::string> after;
    list_globals(L, after);
    for (const std::string& name : after) {
      if (before.count(name) != 0) {
        continue;
      }
      lua_getglobal(L, name.c_str());
      if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
          if (lua_type(L, -2) == LUA_TSTRING && lua_isfunction(L, -1)) {
            names.insert(name + "." + lua_tostring(L, -2));
          }
          lua_pop(L, 1);
        }
      } else if (lua_isfunction(L, -1)) {
        names.insert(name);
      }
      lua_pop(L, 1);
    }
    luaL_getmetatable(L, "luvsup.service");
    lua_getfield(L, -1, "methods");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      names.insert(std::string("svc:") + lua_tostring(L, -2));
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  });
  REQUIRE_FALSE(error);
  return names;
}

}  // namespace

TEST_CASE("the Lua man page documents every function of the runbook API") {
  const auto documented = documented_names();
  const auto api = api_names();
  CHECK(api.count("exec") == 1);  // the enumeration itself works
  CHECK(api.count("svc:wait") == 1);
  for (const std::string& name : api) {
    const size_t dot = name.find('.');
    const bool covered = documented.count(name) != 0 ||
                         (dot != std::string::npos && documented.count(name.substr(0, dot)) != 0);
    CHECK_MESSAGE(covered, "luvsup-lua(7) does not document ", name);
  }
}
