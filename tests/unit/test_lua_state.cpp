// LuaState: protected calls, budgets, the memory cap and registry references.
#include "lua/lua_ref.hpp"
#include "lua/lua_state.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using luvsup::lua::Budget;
using luvsup::lua::LuaRef;
using luvsup::lua::LuaState;
using luvsup::test::eval;

TEST_CASE("a protected call returns results or the error with a traceback") {
  LuaState state;
  CHECK(eval(state, "return 1 + 2") == "3");
  const std::string err = eval(state, "local function f() error('boom') end f()");
  CHECK(err.find("error: test:1: boom") == 0);
  CHECK(err.find("stack traceback:") != std::string::npos);
}

TEST_CASE("error(nil) and non-string errors become readable messages") {
  LuaState state;
  CHECK(eval(state, "error(nil)").find("error(nil) raised") != std::string::npos);
  CHECK(eval(state, "error({})").find("(error object is a table value)") != std::string::npos);
  CHECK(eval(state, "error(setmetatable({}, { __tostring = function() return 'custom' end }))")
            .find("error: custom") == 0);
}

TEST_CASE("call leaves the requested results on the stack") {
  LuaState state;
  lua_State* L = state.get();
  auto err = state.run([](lua_State* s) {
    luaL_loadstring(s, "return function(a, b) return a * b, a + b end");
    lua_call(s, 0, 1);
    lua_setglobal(s, "f");
  });
  REQUIRE_FALSE(err);
  const int top = lua_gettop(L);
  lua_getglobal(L, "f");
  lua_pushinteger(L, 6);
  lua_pushinteger(L, 7);
  REQUIRE_FALSE(state.call(2, 2));
  CHECK(lua_gettop(L) == top + 2);
  CHECK(lua_tointeger(L, -2) == 42);
  CHECK(lua_tointeger(L, -1) == 13);
  lua_settop(L, top);
  lua_getglobal(L, "error");
  lua_pushliteral(L, "x");
  CHECK(state.call(1, 2).has_value());
  CHECK(lua_gettop(L) == top);  // nothing left behind on failure
}

TEST_CASE("a runaway loop is stopped by the instruction budget") {
  LuaState state;
  CHECK(eval(state, "while true do end", Budget{100'000, 10}).find("exceeded its instruction budget") !=
        std::string::npos);
  CHECK(eval(state, "local n = 0 for i = 1, 1000 do n = n + i end return n", Budget{100'000, 10}) == "500500");
}

TEST_CASE("a runaway loop is stopped by the time budget") {
  LuaState state;
  CHECK(eval(state, "while true do end", Budget{UINT64_MAX, 0.05}).find("exceeded its instruction budget") !=
        std::string::npos);
}

TEST_CASE("pcall inside the script cannot swallow the budget error") {
  LuaState state;
  const std::string err = eval(state, R"(
    local caught = 0
    for _ = 1, 1000 do
      pcall(function() while true do end end)
      caught = caught + 1
    end
    return "survived " .. caught)", Budget{100'000, 10});
  CHECK(err.find("exceeded its instruction budget") != std::string::npos);
}

TEST_CASE("the budget applies to each call anew") {
  LuaState state;
  CHECK(eval(state, "while true do end", Budget{10'000, 10}).find("budget") != std::string::npos);
  CHECK(eval(state, "return 'ok'") == "ok");
}

TEST_CASE("the allocator refuses growth beyond the cap and the state survives") {
  LuaState state(8u << 20);
  CHECK(state.memory_limit() == 8u << 20);
  CHECK(state.memory_in_use() > 0);
  const std::string err = eval(state, "local t = {} while true do t[#t + 1] = string.rep('x', 65536) .. #t end");
  CHECK(err.find("not enough memory") != std::string::npos);
  CHECK(state.memory_in_use() <= state.memory_limit());
  CHECK(eval(state, "return #string.rep('y', 1000)") == "1000");
  CHECK(eval(state, "return #string.rep('y', 16 << 20)").find("not enough memory") != std::string::npos);
}

TEST_CASE("blocking functions are replaced by errors naming the alternative") {
  LuaState state;
  CHECK(eval(state, "os.execute('true')").find("os.execute blocks the supervisor; in a hook or task use exec { ... }") != std::string::npos);
  CHECK(eval(state, "io.popen('true')").find("io.popen blocks the supervisor; in a hook or task use exec { ... }") != std::string::npos);
  CHECK(eval(state, "os.exit(0)").find("os.exit would stop the supervisor") != std::string::npos);
  CHECK(eval(state, "return type(os.time())") == "number");  // the rest of os stays
}

TEST_CASE("registry references are counted and released") {
  LuaState state;
  CHECK(state.live_refs() == 0);
  int raw = LUA_NOREF;
  REQUIRE_FALSE(state.run([&](lua_State* L) {
    lua_pushliteral(L, "kept");
    raw = luaL_ref(L, LUA_REGISTRYINDEX);
  }));
  {
    LuaRef ref(state, raw);
    CHECK(state.live_refs() == 1);
    LuaRef moved = std::move(ref);
    CHECK_FALSE(ref.valid());
    CHECK(moved.valid());
    CHECK(state.live_refs() == 1);
    moved.push(state.get());
    CHECK(std::string(lua_tostring(state.get(), -1)) == "kept");
    lua_pop(state.get(), 1);
  }
  CHECK(state.live_refs() == 0);
}

TEST_CASE("loading a stack leaves one policy reference pair per service and frees them with the stack") {
  luvsup::test::TempDir dir;
  auto result = luvsup::lua::load_stack(dir.write("stack.lua", "service 'a' { cmd = 'x' }\nservice 'b' { cmd = 'y' }\n"));
  auto& def = std::get<luvsup::lua::StackDefinition>(result);
  CHECK(def.lua->live_refs() == 4);
  def.services.clear();
  CHECK(def.lua->live_refs() == 0);
}

TEST_CASE("a full collection frees what no longer is reachable") {
  LuaState state;
  REQUIRE(eval(state, "junk = {} for i = 1, 10000 do junk[i] = { i } end return #junk") == "10000");
  const size_t full = state.memory_in_use();
  REQUIRE(eval(state, "junk = nil return 0") == "0");
  state.collect_garbage();
  CHECK(state.memory_in_use() + 256 * 1024 < full);
}

TEST_CASE("a loaded stack carries none of the DSL's temporary tables") {
  luvsup::test::TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "service 's" + std::to_string(i) + "' { cmd = { 'sleep', '1' }, env = { A = 'b' } }\n";
  }
  auto result = luvsup::lua::load_stack(dir.write("stack.lua", text));
  auto& def = std::get<luvsup::lua::StackDefinition>(result);
  const size_t loaded = def.lua->memory_in_use();
  def.lua->collect_garbage();
  // A second collection finds (almost) nothing: the loader already ran one.
  CHECK(def.lua->memory_in_use() + 4096 > loaded);
}

TEST_CASE("the data directory can be set from the environment") {
  ::setenv("LUVSUP_DATA_DIR", "/opt/luvsup-data", 1);
  CHECK(luvsup::lua::find_data_dir() == "/opt/luvsup-data");
  ::unsetenv("LUVSUP_DATA_DIR");
  // Run from the source tree (build/unit_tests), the library is found beside it.
  CHECK(luvsup::lua::find_data_dir().ends_with("main") == (std::getenv("PWD") != nullptr &&
                                                          std::string(std::getenv("PWD")).ends_with("main")));
  CHECK(luvsup::lua::package_path("/s", "/d", "D") ==
        "/s/?.lua;/s/?/init.lua;/d/lua/?.lua;/d/lua/?/init.lua;/d/?.lua;D");
}
