// json.encode and json.decode in a real Lua state.
#include "lua/lua_state.hpp"
#include "runbook/lua_json.hpp"

#include <doctest/doctest.h>

extern "C" {
#include <lauxlib.h>
}

#include <string>

using namespace luvsup;

namespace {

// Runs `code` (a chunk named "test" that returns one value) with the json
// table set; returns tostring() of the result, or "error: ..." when it raised.
std::string eval(const std::string& code) {
  lua::LuaState state;
  std::string result;
  auto error = state.run([&](lua_State* L) {
    runbook::push_json_library(L);
    lua_setglobal(L, "json");
    if (luaL_loadbuffer(L, code.data(), code.size(), "=test") != LUA_OK) {
      lua_error(L);
    }
    lua_call(L, 0, 1);
    result = luaL_tolstring(L, -1, nullptr);
  });
  return error ? "error: " + error->substr(0, error->find('\n')) : result;
}

} // namespace

TEST_CASE("json.encode makes arrays of sequences and objects of other tables") {
  CHECK(eval("return json.encode({1, 2, 'three'})") == R"([1,2,"three"])");
  CHECK(eval("return json.encode({b = {x = true}, a = 1.5})") == R"({"a":1.5,"b":{"x":true}})");
  CHECK(eval("return json.encode({[1] = 'a', [3] = 'c'})") == R"({"1":"a","3":"c"})");
  CHECK(eval("return json.encode({})") == "{}");
  CHECK(eval("return json.encode({a = json.null})") == R"({"a":null})");
  CHECK(eval("return json.encode('line\\n\"q\"')") == R"("line\n\"q\"")");
  CHECK(eval("return json.encode(42)") == "42");
}

TEST_CASE("json.decode gives tables, json.null for null, and round-trips encode") {
  CHECK(eval("return json.decode('[1, 2.5, \"x\"]')[2]") == "2.5");
  CHECK(eval("return json.decode('{\"a\": {\"b\": [true]}}').a.b[1]") == "true");
  CHECK(eval("return json.decode('null') == json.null") == "true");
  CHECK(eval("return json.decode('{\"a\": null}').a == json.null") == "true");
  CHECK(eval("return math.type(json.decode('7'))") == "integer");
  CHECK(eval("local t = {name = 'web', ports = {5000, 5001}, up = false}\n"
             "return json.encode(json.decode(json.encode(t)))") ==
        R"({"name":"web","ports":[5000,5001],"up":false})");
}

TEST_CASE("json.decode returns nil and the parse error for bad text") {
  CHECK(eval("local v, err = json.decode('{x') return tostring(v) .. ' ' .. err") ==
        "nil json.decode: parse error at line 1, column 2: syntax error while parsing object "
        "key - invalid literal; last read: '{x'; expected string literal");
  CHECK(eval("return json.decode(nil)").find("error: test:1: bad argument #1 to 'decode'") == 0);
}

// (The calls are not tail calls, which would leave no line to name.)
TEST_CASE("json.encode raises, naming where, on cycles and values JSON cannot hold") {
  CHECK(eval("local t = {} t.self = t local s = json.encode(t) return s") ==
        "error: test:1: json.encode: a table refers to itself at key 'self'");
  CHECK(eval("local s = json.encode({list = {1, print}}) return s") ==
        "error: test:1: json.encode: cannot encode a function at key 'list' at index 2");
  CHECK(eval("local s = json.encode({[true] = 1}) return s") ==
        "error: test:1: json.encode: cannot encode a boolean key");
  CHECK(eval("local s = json.encode(0/0) return s")
            .find("error: test:1: json.encode: cannot encode") == 0);
  CHECK(eval("local t = {} local x = t for i = 1, 150 do x.n = {} x = x.n end\n"
             "return json.encode(t)")
            .find("json.encode: nesting deeper than 100") != std::string::npos);
}

TEST_CASE("a table reached twice without a cycle encodes twice") {
  CHECK(eval("local s = {1} return json.encode({a = s, b = s})") == R"({"a":[1],"b":[1]})");
}
