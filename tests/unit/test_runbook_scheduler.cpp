#include "runbook/runtime_api.hpp"
#include "runbook/scheduler.hpp"
#include "runbook/service_control.hpp"
#include "support/fake_platform.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>

using namespace luvsup;
using runbook::RunOutcome;

namespace {

// Services as a test sets them; records what runbooks ask for.
class FakeControl final : public runbook::ServiceControl {
public:
  struct Watch final : runbook::ConditionWatch {
    FakeControl* owner;
    std::string name, condition;
    std::function<void(std::string)> met;
    ~Watch() override { std::erase(owner->watches, this); }
  };

  std::optional<runbook::ServiceSnapshot> find(std::string_view name) const override {
    auto it = services.find(std::string(name));
    if (it == services.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  std::string restart(std::string_view name) override { return record("restart", name); }
  std::string stop(std::string_view name) override { return record("stop", name); }
  std::string start(std::string_view name) override { return record("start", name); }
  std::string signal(std::string_view name, int sig) override {
    return record("signal " + std::to_string(sig), name);
  }
  std::unique_ptr<runbook::ConditionWatch> watch(std::string_view name, std::string condition,
                                                 std::function<void(std::string)> met) override {
    auto w = std::make_unique<Watch>();
    w->owner = this;
    w->name = name;
    w->condition = std::move(condition);
    w->met = std::move(met);
    watches.push_back(w.get());
    return w;
  }
  std::optional<std::string> service_of_pid(pid_t) const override { return std::nullopt; }

  std::string record(std::string what, std::string_view name) {
    requests.push_back(what + " " + std::string(name));
    return "";
  }

  std::map<std::string, runbook::ServiceSnapshot> services;
  std::vector<std::string> requests;
  std::vector<Watch*> watches;
};

struct Fixture {
  Fixture() : state(8u << 20) {
    spdlog::set_level(spdlog::level::off);
    environment.platform = &platform;
    environment.services = &control;
    const std::string path = lua::package_path(test::fixtures_dir(), lua::find_data_dir(), "");
    auto error = state.run([&](lua_State* L) {
      lua_getglobal(L, "package");
      lua_pushstring(L, path.c_str());
      lua_setfield(L, -2, "path");
      lua_pop(L, 1);
      runbook::open_runtime(L);
      lua_newtable(L);
      lua_setglobal(L, "events");
    });
    REQUIRE_FALSE(error);
    control.services["web"] = {"web", "running", 4242, 2, true, "healthy"};
  }

  // Starts `body` (the body of a function, in a chunk named stack.lua) as a run.
  void start(const std::string& body, runbook::RunInfo info = {}) {
    if (info.label.empty()) {
      info.label = "test run";
    }
    const std::string chunk = "return function(svc)\n" + body + "\nend";
    handles.push_back(scheduler.start(
        std::move(info),
        [chunk](lua_State* co) {
          if (luaL_loadbuffer(co, chunk.data(), chunk.size(), "@stack.lua") != LUA_OK) {
            lua_error(co);
          }
          lua_call(co, 0, 1);  // stack: f
          runbook::push_service_handle(co, "web");
          return 1;
        },
        [this](lua_State* co, int n) {
          results.push_back(n > 0 && lua_type(co, 1) == LUA_TSTRING ? lua_tostring(co, 1) : "");
        },
        [this](RunOutcome outcome) { outcomes.push_back(std::move(outcome)); }));
  }

  // The `events` list the Lua code appends to, joined with spaces.
  std::string events() { return test::eval(state, "return table.concat(events, ' ')"); }

  test::FakePlatform platform;
  runbook::Environment environment;
  FakeControl control;
  lua::LuaState state;
  runbook::Scheduler scheduler{state, environment};
  std::vector<std::unique_ptr<runbook::RunHandle>> handles;
  std::vector<RunOutcome> outcomes;
  std::vector<std::string> results;
};

}  // namespace

TEST_CASE("a run starts from the loop, not inside start(), and reports its results") {
  Fixture f;
  f.start("events[#events + 1] = 'ran'; return 'done'");
  CHECK(f.events().empty());
  f.platform.advance(0);
  CHECK(f.events() == "ran");
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::returned);
  CHECK(f.results == std::vector<std::string>{"done"});
  CHECK(f.scheduler.active_runs() == 0);
}

TEST_CASE("two runs that sleep run concurrently and wake in deadline order") {
  Fixture f;
  f.start("sleep(1.5); events[#events + 1] = 'a'");
  f.start("sleep(1.0); events[#events + 1] = 'b'");
  f.platform.advance(0);
  CHECK(f.scheduler.active_runs() == 2);
  f.platform.advance(1.2);
  CHECK(f.events() == "b");
  f.platform.advance(0.5);
  CHECK(f.events() == "b a");
  CHECK(f.outcomes.size() == 2);
}

TEST_CASE("an infinite loop in a run is stopped and the scheduler carries on") {
  Fixture f;
  f.start("while true do end");
  f.start("sleep(1); events[#events + 1] = 'other'");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.outcomes[0].error.find("stack.lua:2:") != std::string::npos);
  CHECK(f.outcomes[0].error.find("instruction budget") != std::string::npos);
  f.platform.advance(1);
  CHECK(f.events() == "other");
}

TEST_CASE("a pcall around an infinite loop cannot swallow the stop") {
  Fixture f;
  f.start("while true do pcall(function() while true do end end) end");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.outcomes[0].error.find("instruction budget") != std::string::npos);
}

TEST_CASE("an infinite loop inside a coroutine the script made is stopped too") {
  Fixture f;
  f.start("local co = coroutine.create(function() while true do end end)\n"
          "while true do coroutine.resume(co); co = coroutine.create(function() while true do end end) end");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.outcomes[0].error.find("instruction budget") != std::string::npos);
}

TEST_CASE("the budget counts over all resumptions of a run, not per resumption") {
  Fixture f;
  runbook::RunInfo info;
  info.budget = {200'000, 5.0};
  f.start("for i = 1, 100 do local x = 0; for j = 1, 5000 do x = x + j end; sleep(0.01) end\n"
          "events[#events + 1] = 'finished'",
          info);
  for (int i = 0; i < 200 && f.outcomes.empty(); ++i) {
    f.platform.advance(0.01);
  }
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.events().empty());
}

TEST_CASE("a waiting call inside a script's own coroutine suspends the whole run") {
  Fixture f;
  f.start("local co = coroutine.create(function(x) local y = coroutine.yield(x + 1); sleep(1); return y * 2 end)\n"
          "local _, first = coroutine.resume(co, 1)\n"
          "local ok, second = coroutine.resume(co, 21)\n"
          "local wrapped = coroutine.wrap(function() sleep(1); return 'w' end)\n"
          "events[#events + 1] = tostring(first) .. ' ' .. tostring(ok) .. ' ' .. tostring(second) .. ' ' .. wrapped()");
  f.platform.advance(0);
  CHECK(f.events().empty());
  f.platform.advance(1);
  CHECK(f.events().empty());
  f.platform.advance(1);
  CHECK(f.events() == "2 true 42 w");
}

TEST_CASE("an error inside a wrapped coroutine reaches the caller") {
  Fixture f;
  f.start("local ok, err = pcall(coroutine.wrap(function() sleep(0.5); error('inner failed') end))\n"
          "events[#events + 1] = tostring(ok) .. ' ' .. err");
  f.platform.advance(0);
  f.platform.advance(0.5);
  CHECK(f.events() == "false stack.lua:2: inner failed");
}

TEST_CASE("coroutine.yield in the run's own coroutine fails the run with a clear message") {
  Fixture f;
  f.start("coroutine.yield(1)");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.outcomes[0].error.find("wait with sleep") != std::string::npos);
}

TEST_CASE("a waiting call outside a run raises instead of blocking") {
  Fixture f;
  CHECK(test::eval(f.state, "sleep(1)").find("can only be called from a hook or task") != std::string::npos);
  f.start("table.sort({3, 2, 1}, function(a, b) sleep(0); return a < b end)");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].error.find("cannot wait here") != std::string::npos);
}

TEST_CASE("a raising run reports a traceback that names file and line") {
  Fixture f;
  f.start("local t = nil\nreturn t.field");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.outcomes[0].error.find("stack.lua:3:") != std::string::npos);
  CHECK(f.outcomes[0].error.find("stack traceback") != std::string::npos);
}

TEST_CASE("a run that allocates without end gets a memory error; the state stays usable") {
  Fixture f;
  f.start("local t = {}; while true do t[#t + 1] = string.rep('x', 1 << 20) end");
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK(f.outcomes[0].error.find("memory") != std::string::npos);
  f.start("return 'still here'");
  f.platform.advance(0);
  CHECK(f.results.back() == "still here");
}

TEST_CASE("destroying a run's handle cancels it; its done is never called") {
  Fixture f;
  f.start("sleep(1); events[#events + 1] = 'woke'");
  f.platform.advance(0);
  CHECK(f.scheduler.active_runs() == 1);
  f.handles.clear();
  CHECK(f.scheduler.active_runs() == 0);
  f.platform.advance(2);
  CHECK(f.events().empty());
  CHECK(f.outcomes.empty());
}

TEST_CASE("a run past its timeout is cancelled and reported as timed out") {
  Fixture f;
  runbook::RunInfo info;
  info.timeout = 2;
  f.start("sleep(10); events[#events + 1] = 'woke'", info);
  f.platform.advance(0);
  f.platform.advance(2);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::timed_out);
  CHECK(f.outcomes[0].error == "timed out after 2s");
  f.platform.advance(10);
  CHECK(f.events().empty());
}

TEST_CASE("service handles read live state and queue requests until the code yields") {
  Fixture f;
  f.start("events[#events + 1] = svc.name .. ' ' .. svc.state .. ' ' .. svc.pid .. ' ' .. svc.restarts\n"
          "assert(svc:restart())\n"
          "events[#events + 1] = #tostring(svc)\n"
          "local other, err = service('nope')\n"
          "events[#events + 1] = err\n"
          "svc:signal('HUP')");
  f.platform.advance(0);
  CHECK(f.events() == "web running 4242 2 13 no service named 'nope'");
  CHECK(f.control.requests == std::vector<std::string>{"restart web", "signal 1 web"});
}

TEST_CASE("svc:wait returns once the condition is met, or nil and why after its timeout") {
  Fixture f;
  f.start("local ok, err = svc:wait('healthy', 5)\n"
          "events[#events + 1] = tostring(ok) .. ' ' .. tostring(err)\n"
          "ok, err = svc:wait('completed', 1)\n"
          "events[#events + 1] = tostring(ok) .. ' ' .. tostring(err)");
  f.platform.advance(0);
  REQUIRE(f.control.watches.size() == 1);
  CHECK(f.control.watches[0]->condition == "healthy");
  f.control.watches[0]->met("");
  f.platform.advance(0);
  CHECK(f.events() == "true nil");
  f.platform.advance(1);
  CHECK(f.events() == "true nil nil timed out after 1.0 s");
  CHECK(f.control.watches.empty());
}

TEST_CASE("waiting on its own readiness inside before_start raises instead of deadlocking") {
  Fixture f;
  runbook::RunInfo info;
  info.label = "web: before_start";
  info.service = "web";
  info.holds_service = true;
  f.start("svc:wait('healthy')", info);
  f.platform.advance(0);
  REQUIRE(f.outcomes.size() == 1);
  CHECK(f.outcomes[0].status == RunOutcome::Status::failed);
  CHECK_MESSAGE(f.outcomes[0].error.find("would never return") != std::string::npos, f.outcomes[0].error);
}
