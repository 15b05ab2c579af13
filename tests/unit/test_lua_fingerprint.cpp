#include "lua/lua_state.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

using luvsup::lua::LuaState;
using luvsup::test::eval;

namespace {

// The fingerprint of the value `expr` evaluates to, in a fresh Lua state,
// with the bytes in hex (bytecode holds NULs).
std::string fingerprint_of(const std::string& expr) {
  LuaState state;
  return eval(state, "local backoff = require 'luvsup.backoff'\n"
                     "local function hex(s)\n"
                     "  return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))\n"
                     "end\n"
                     "return require('luvsup.fingerprint')(" + expr + ", hex)");
}

}  // namespace

TEST_CASE("equal policies in two Lua states have one fingerprint") {
  CHECK(fingerprint_of("backoff.fixed { delay = 1 }") == fingerprint_of("backoff.fixed { delay = 1 }"));
  CHECK(fingerprint_of("{ a = 1, b = { 'x', 2.5 } }") == fingerprint_of("{ b = { 'x', 2.5 }, a = 1 }"));
  CHECK(fingerprint_of("function(svc) return 1 end") == fingerprint_of("function(svc) return 1 end"));
}

TEST_CASE("a different value, code or upvalue changes the fingerprint") {
  CHECK(fingerprint_of("backoff.fixed { delay = 1 }") != fingerprint_of("backoff.fixed { delay = 2 }"));
  CHECK(fingerprint_of("backoff.fixed { delay = 1 }") != fingerprint_of("backoff.exponential { initial = 1 }"));
  CHECK(fingerprint_of("function() return 1 end") != fingerprint_of("function() return 2 end"));
  CHECK(fingerprint_of("(function() local n = 1; return function() return n end end)()") !=
        fingerprint_of("(function() local n = 2; return function() return n end end)()"));
  CHECK(fingerprint_of("1") != fingerprint_of("1.0"));
  CHECK(fingerprint_of("'1'") != fingerprint_of("1"));
}

TEST_CASE("a cyclic table has a finite fingerprint") {
  const std::string cyclic = "(function() local t = { n = 1 }; t.self = t; return t end)()";
  const std::string fp = fingerprint_of(cyclic);
  CHECK(fp.rfind("error", 0) != 0);
  CHECK(fp == fingerprint_of(cyclic));
}
