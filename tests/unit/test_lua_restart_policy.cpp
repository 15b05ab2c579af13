// LuaRestartPolicy: Lua policies called from C++, and the fallback when one fails.
#include "lua/lua_restart_policy.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <vector>
#include <sstream>

using luvsup::core::ExitCause;
using luvsup::core::ExitRecord;
using luvsup::core::RestartDecision;
using luvsup::core::ServiceView;
using luvsup::lua::StackDefinition;

namespace {

// A stack with one service "svc" whose restart key is `restart` (Lua source).
struct PolicyFixture {
  luvsup::test::TempDir dir;
  StackDefinition def;
  std::vector<ExitRecord> history;

  explicit PolicyFixture(const std::string& restart, const std::string& prelude = "") {
    auto result = luvsup::lua::load_stack(dir.write(
        "stack.lua", prelude + "\nservice 'svc' { cmd = 'x', restart = " + restart + " }\n"));
    if (auto* err = std::get_if<luvsup::lua::LoadError>(&result)) {
      FAIL("load failed: " << err->message);
    }
    def = std::move(std::get<StackDefinition>(result));
  }

  // Records a crash after `uptime` seconds at time `time`, and decides.
  RestartDecision exit(double uptime, double time, bool success = false) {
    ExitRecord rec;
    rec.cause = success ? ExitCause::completed : ExitCause::crashed;
    rec.status.code = success ? 0 : 1;
    rec.success = success;
    rec.uptime = uptime;
    rec.time = time;
    history.push_back(rec);
    const ServiceView view{"svc", false, static_cast<int>(history.size()) - 1, history};
    return def.services.at(0).restart->decide(view, history.back());
  }
};

// Captures what luvsup logs while alive.
struct LogCapture {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  LogCapture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous); }
};

}  // namespace

TEST_CASE("a backoff policy from the stack file decides through C++") {
  PolicyFixture f("backoff.exponential { jitter = 0, max_restarts = 2, within = 60 }",
                  "local backoff = require 'luvsup.backoff'");
  RestartDecision d = f.exit(1, 10);
  REQUIRE(d.delay.has_value());
  CHECK(*d.delay == 1.0);
  CHECK_FALSE(d.policy_failed);
  CHECK(*f.exit(1, 11).delay == 2.0);
  d = f.exit(1, 12);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.reason == "2 restarts within 60s");
  CHECK_FALSE(d.policy_failed);
}

TEST_CASE("the C++ decision reports crash-looping after three quick exits") {
  PolicyFixture f("backoff.fixed { delay = 1 }", "local backoff = require 'luvsup.backoff'");
  CHECK_FALSE(f.exit(1, 1).crash_looping);
  CHECK_FALSE(f.exit(1, 2).crash_looping);
  CHECK(f.exit(1, 3).crash_looping);
}

TEST_CASE("a user function sees the service and its exits") {
  PolicyFixture f(R"(function(svc, exit)
    if svc.name ~= "svc" or exit.cause ~= "crashed" or exit.code ~= 1 then return nil, "bad view" end
    return #svc.exits + svc.restarts * 100
  end)");
  CHECK(*f.exit(1, 1).delay == 1.0);
  CHECK(*f.exit(1, 2).delay == 102.0);
}

TEST_CASE("a policy that raises an error falls back to the default and logs the traceback") {
  LogCapture log;
  PolicyFixture f("function() error('policy exploded') end");
  RestartDecision d = f.exit(1, 1);
  CHECK(d.policy_failed);
  REQUIRE(d.delay.has_value());
  CHECK(*d.delay >= 0.9);
  CHECK(*d.delay <= 1.1);
  const std::string text = log.out.str();
  CHECK(text.find("svc: restart policy failed: ") != std::string::npos);
  CHECK(text.find("stack.lua:2: policy exploded") != std::string::npos);
  CHECK(text.find("stack traceback:") != std::string::npos);
}

TEST_CASE("a policy that returns a string falls back to the default") {
  LogCapture log;
  PolicyFixture f("function() return 'soon' end");
  RestartDecision d = f.exit(1, 1);
  CHECK(d.policy_failed);
  CHECK(d.delay.has_value());
  CHECK(log.out.str().find("restart policy returned a string (soon)") != std::string::npos);
}

TEST_CASE("a policy that raises error(nil) or a table still fails cleanly") {
  LogCapture log;
  PolicyFixture a("function() error(nil) end");
  CHECK(a.exit(1, 1).policy_failed);
  PolicyFixture b("function() error({ code = 1 }) end");
  CHECK(b.exit(1, 1).policy_failed);
  CHECK(log.out.str().find("error object is a table value") != std::string::npos);
}

TEST_CASE("a policy that loops forever is stopped and the default decides") {
  LogCapture log;
  PolicyFixture f("function() while true do end end");
  RestartDecision d = f.exit(1, 1);
  CHECK(d.policy_failed);
  CHECK(d.delay.has_value());
  CHECK(log.out.str().find("exceeded its instruction budget") != std::string::npos);
  // The state is still usable: the next decision runs (and is stopped) again.
  CHECK(f.exit(1, 2).policy_failed);
}

TEST_CASE("a loop wrapped in pcall inside the policy is still stopped") {
  LogCapture log;
  PolicyFixture f(R"(function()
    local tries = 0
    while true do
      pcall(function() while true do end end)
      tries = tries + 1
    end
  end)");
  RestartDecision d = f.exit(1, 1);
  CHECK(d.policy_failed);
  CHECK(log.out.str().find("exceeded its instruction budget") != std::string::npos);
}

TEST_CASE("a loop inside a coroutine of the policy is stopped") {
  LogCapture log;
  PolicyFixture f(R"(function()
    local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end)
    while true do pcall(co) end
  end)");
  CHECK(f.exit(1, 1).policy_failed);
}

TEST_CASE("a policy that allocates without end hits the memory cap without crashing") {
  LogCapture log;
  PolicyFixture f(R"(function()
    local t = {}
    while true do t[#t + 1] = string.rep("x", 1 << 20) .. #t end
  end)");
  RestartDecision d = f.exit(1, 1);
  CHECK(d.policy_failed);
  CHECK(d.delay.has_value());
  CHECK(log.out.str().find("not enough memory") != std::string::npos);
  CHECK(f.def.lua->memory_in_use() < f.def.lua->memory_limit() / 2);  // the garbage was collected
}

TEST_CASE("a oneshot service restarts on failure at most 3 times within 60 seconds by default") {
  luvsup::test::TempDir dir;
  auto result = luvsup::lua::load_stack(dir.write("stack.lua", "service 'task' { cmd = 'x', oneshot = true }\n"));
  auto& def = std::get<StackDefinition>(result);
  std::vector<ExitRecord> history;
  auto decide = [&](bool success, double time) {
    ExitRecord rec;
    rec.cause = success ? ExitCause::completed : ExitCause::crashed;
    rec.success = success;
    rec.uptime = 1;
    rec.time = time;
    history.push_back(rec);
    const ServiceView view{"task", true, static_cast<int>(history.size()) - 1, history};
    return def.services[0].restart->decide(view, history.back());
  };
  CHECK(decide(false, 1).delay.has_value());
  CHECK(decide(false, 2).delay.has_value());
  CHECK(decide(false, 3).delay.has_value());
  RestartDecision d = decide(false, 4);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.reason == "3 restarts within 60s");
  history.clear();
  d = decide(true, 100);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.reason == "completed");
}

TEST_CASE("on-failure and never from the stack file decide through C++") {
  PolicyFixture on_failure("'on-failure'");
  CHECK(on_failure.exit(1, 1).delay.has_value());
  RestartDecision d = on_failure.exit(1, 2, true);
  CHECK_FALSE(d.delay.has_value());
  CHECK(d.reason == "completed");
  PolicyFixture never("'never'");
  CHECK_FALSE(never.exit(1, 1).delay.has_value());
}
