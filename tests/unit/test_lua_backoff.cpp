// The backoff policies of lua/luvsup/backoff.lua, called from Lua.
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

namespace {

// Lua helpers for the tests: run(policy, exits) feeds the exits one by one
// (each {uptime, time[, success]}) and returns the decisions joined by ",":
// a delay (formatted with FMT, "%g" unless a test rounds away the jitter with
// "%.0f"), "nil:<reason>", and "!" after a crash-looping decision.
const std::string k_prelude = R"(
local backoff = require "luvsup.backoff"
FMT = "%g"
local function run(policy, list, oneshot)
  local exits, out = {}, {}
  for i, e in ipairs(list) do
    local exit = { cause = "crashed", uptime = e[1], time = e[2], success = e[3] or false }
    exits[#exits + 1] = exit
    local delay, looping, reason = backoff.decide(policy, { name = "svc", oneshot = oneshot or false,
      restarts = i - 1, exits = exits }, exit)
    out[#out + 1] = (delay and string.format(FMT, delay) or ("nil:" .. reason)) .. (looping and "!" or "")
  end
  return table.concat(out, ",")
end
local function quick(n, from)
  local l = {}
  for i = 1, n do l[i] = { 1, (from or 0) + i } end
  return l
end
)";

std::string eval(const std::string& code) {
  luvsup::lua::LuaState state;
  return luvsup::test::eval(state, k_prelude + code);
}

}  // namespace

TEST_CASE("exponential backoff doubles the delay up to the cap") {
  CHECK(eval("return run(backoff.exponential { jitter = 0 }, quick(8))") == "1,2,4!,8!,16!,32!,60!,60!");
  CHECK(eval("return run(backoff.exponential { initial = '500ms', factor = 3, max = 5, jitter = 0 }, quick(4))") ==
        "0.5,1.5,4.5!,5!");
}

TEST_CASE("exponential backoff starts again after a long enough run") {
  CHECK(eval("return run(backoff.exponential { jitter = 0, reset_after = 30 },"
             " { {1, 1}, {1, 2}, {1, 3}, {45, 50}, {1, 51}, {1, 52} })") == "1,2,4!,1,1,2");
}

TEST_CASE("jitter spreads the delay within the given fraction") {
  CHECK(eval(R"(
    local p = backoff.exponential { initial = 10, jitter = 0.1 }
    local lo, hi = math.huge, 0
    for _ = 1, 200 do
      local d = p({ name = "a", restarts = 0, exits = {} }, { uptime = 1, time = 1, success = false })
      lo, hi = math.min(lo, d), math.max(hi, d)
    end
    return lo >= 9 and hi <= 11 and hi > lo)") == "true");
}

TEST_CASE("the default policy never gives up") {
  CHECK(eval("local r = run('always', quick(60)); return select(2, r:gsub('nil', ''))") == "0");
  CHECK(eval("return run('always', quick(1))") != "");
}

TEST_CASE("a fixed policy waits the same delay every time") {
  CHECK(eval("return run(backoff.fixed { delay = 2 }, quick(4))") == "2,2,2!,2!");
  CHECK(eval("return run(backoff.fixed(5), quick(1))") == "5");
}

TEST_CASE("a restart budget gives up with a reason") {
  CHECK(eval("return run(backoff.fixed { delay = 1, max_restarts = 2, within = 60 }, quick(4))") ==
        "1,1,nil:2 restarts within 60s,nil:2 restarts within 60s");
  // Exits older than the window do not count.
  CHECK(eval("return run(backoff.exponential { jitter = 0, max_restarts = 2, within = 10 },"
             " { {1, 1}, {1, 2}, {100, 102}, {100, 203}, {100, 304} })") == "1,2,1,1,1");
  // Without a window the budget counts every restart.
  CHECK(eval("return run(backoff.fixed { delay = 1, max_restarts = 2 }, quick(3))") == "1,1,nil:2 restarts");
}

TEST_CASE("a budget larger than the kept history is refused") {
  CHECK(eval("return select(2, pcall(backoff.exponential, { max_restarts = 61, within = 60 }))")
            .find("max_restarts must be at most 60") != std::string::npos);
  CHECK(eval("return select(2, pcall(backoff.fixed, { within = 60 }))").find("'within' needs 'max_restarts'") !=
        std::string::npos);
}

TEST_CASE("on-failure does not restart a successful exit") {
  CHECK(eval("FMT = '%.0f' return run('on-failure', { {1, 1}, {1, 2, true} })") == "1,nil:completed");
  CHECK(eval("FMT = '%.0f' return run('always', { {1, 1}, {1, 2, true} })") == "1,2");
}

TEST_CASE("never does not restart") {
  CHECK(eval("return run('never', { {1, 1} })") == "nil:restart is \"never\"");
}

TEST_CASE("a completed oneshot service is not restarted, whatever its policy") {
  CHECK(eval("return run('always', { {1, 1, true} }, true)") == "nil:completed");
  CHECK(eval("return run(function() return 1 end, { {1, 1, true} }, true)") == "nil:completed");
  CHECK(eval("FMT = '%.0f' return run(backoff.oneshot_default(), quick(5), true)") ==
        "1,2,4!,nil:3 restarts within 60s,nil:3 restarts within 60s");
}

TEST_CASE("three quick exits in a row mean crash-looping") {
  CHECK(eval("return run(backoff.fixed { delay = 1 }, { {1, 1}, {1, 2}, {100, 103}, {1, 104}, {1, 105}, {1, 106} })") ==
        "1,1,1,1,1,1!");
}

TEST_CASE("a user function decides the delay and may give up with a reason") {
  CHECK(eval("return run(function(svc, exit) return #svc.exits * 10 end, quick(3))") == "10,20,30!");
  CHECK(eval("return run(function(svc) if svc.restarts >= 1 then return nil, 'enough' end return 0 end, quick(2))") ==
        "0,nil:enough");
  CHECK(eval("return run(function() return nil end, quick(1))") == "nil:restart policy gave up");
}

TEST_CASE("decide rejects a policy that returns something other than a delay") {
  CHECK(eval("return select(2, pcall(run, function() return 'soon' end, quick(1)))")
            .find("restart policy returned a string (soon); expected a delay in seconds or nil") != std::string::npos);
  CHECK(eval("return select(2, pcall(run, function() return -1 end, quick(1)))")
            .find("invalid delay -1") != std::string::npos);
}

TEST_CASE("policy options are validated") {
  CHECK(eval("return select(2, pcall(backoff.exponential, { factor = 'x' }))")
            .find("option 'factor' expects a number, got string") != std::string::npos);
  CHECK(eval("return select(2, pcall(backoff.exponential, { max = '1 week' }))")
            .find("option 'max' expects a duration") != std::string::npos);
  CHECK(eval("return select(2, pcall(backoff.exponential, { factor = 0.5 }))")
            .find("'factor' must be >= 1") != std::string::npos);
}

TEST_CASE("durations and sizes parse their string forms") {
  CHECK(eval("local u = require 'luvsup.util'; return string.format('%g %g %g %g %g', u.duration('500ms'),"
             " u.duration('1.5s'), u.duration('2m'), u.duration('1h'), u.duration('1m30s'))") ==
        "0.5 1.5 120 3600 90");
  CHECK(eval("local u = require 'luvsup.util'; return string.format('%d %d %d %d', u.size('512KB'),"
             " u.size('10MB'), u.size('1GiB'), u.size(100))") == "524288 10485760 1073741824 100");
  CHECK(eval("local u = require 'luvsup.util'; return select(2, u.duration('soon'))")
            .find("expects a duration") != std::string::npos);
}

TEST_CASE("env files are parsed with comments, quotes and export") {
  CHECK(eval(R"(
    local envfile = require "luvsup.envfile"
    local pairs_ = assert(envfile.parse(table.concat({
      "# comment", "", "export A=1", "B = ' x # y '", 'C="a\\nb \\"q\\" \\\\"', "D=plain value # note",
      "E=", "A=2" }, "\n")))
    local out = {}
    for _, kv in ipairs(pairs_) do out[#out + 1] = kv[1] .. "=[" .. kv[2] .. "]" end
    return table.concat(out, ";"))") == "A=[2];B=[ x # y ];C=[a\nb \"q\" \\];D=[plain value];E=[]");
  CHECK(eval("return select(2, require('luvsup.envfile').parse('A=1\\nnot valid'))") ==
        "line 2: expected KEY=VALUE, got \"not valid\"");
}
