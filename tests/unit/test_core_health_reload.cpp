// A reload that swaps a service's definition while it runs: its health
// monitor follows the new definition and its health history stays.
#include "core/reload_plan.hpp"
#include "health_fixture.hpp"

using luvsup::core::HealthState;
using namespace luvsup;
using namespace luvsup::test;

namespace {

struct ReloadFixture : HealthFixture {
  // Loads `stack` as the next definition and applies it; returns the log line.
  std::string reload(const std::string& stack) {
    auto result = lua::load_stack(dir.write("stack.lua", "local health = require 'luvsup.health'\n" + stack));
    if (auto* err = std::get_if<lua::LoadError>(&result)) {
      FAIL("unexpected load error: " << err->message);
    }
    next = std::move(std::get<lua::StackDefinition>(result));
    std::vector<std::shared_ptr<const core::ServiceSpec>> specs;
    std::vector<const core::ServiceSpec*> view;
    for (const auto& spec : next.services) {
      specs.push_back(std::make_shared<const core::ServiceSpec>(spec));
      view.push_back(specs.back().get());
    }
    const auto plan = core::plan_reload(supervisor.specs(), view);
    return supervisor.apply_reload(plan, std::move(specs));
  }
  lua::StackDefinition next;
};

}  // namespace

TEST_CASE_FIXTURE(ReloadFixture,
                  "a reload that changes only the health check keeps the process and its health") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1 } }\n");
  round("db", passed());
  REQUIRE(svc("db").health_state() == HealthState::healthy);
  const pid_t pid = svc("db").pid();
  const std::string line =
      reload("service 'db' { cmd = 'x', health = health.tcp { port = 2, interval = 1 } }\n");
  CHECK(line.find("~db (health changed: kept pid") != std::string::npos);
  CHECK(svc("db").pid() == pid);
  CHECK(svc("db").health_state() == HealthState::healthy);
  CHECK(svc("db").ready());
  REQUIRE(await_probe("db"));
  CHECK(platform.open_probes().back()->spec.port == 2);
}

TEST_CASE_FIXTURE(ReloadFixture,
                  "a changed health check is judged afresh: its primary has not passed under it") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1 } }\n");
  round("db", passed());
  REQUIRE(svc("db").health()->counters.primary_passed);
  reload("service 'db' { cmd = 'x', stop = { timeout = 3 }, health = health.tcp { port = 1, "
         "interval = 1 } }\n");
  CHECK(svc("db").health()->counters.primary_passed);
  reload("service 'db' { cmd = 'x', health = health.tcp { port = 3, interval = 1 } }\n");
  CHECK_FALSE(svc("db").health()->counters.primary_passed);
}

TEST_CASE_FIXTURE(ReloadFixture, "a health check added by a reload starts probing the running process") {
  load("service 'db' { cmd = 'x' }\n");
  CHECK(svc("db").health() == nullptr);
  const pid_t pid = svc("db").pid();
  reload("service 'db' { cmd = 'x', health = health.tcp { port = 7, interval = 1 } }\n");
  CHECK(svc("db").pid() == pid);
  REQUIRE(await_probe("db"));
  CHECK(platform.open_probes().back()->spec.port == 7);
}

TEST_CASE_FIXTURE(ReloadFixture,
                  "a reload that changes another service lets a probe in flight finish") {
  const std::string db = "service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1 } }\n";
  load(db + "service 'b' { cmd = 'one' }\n");
  REQUIRE(await_probe("db"));
  const auto in_flight = platform.open_probes().size();
  reload(db + "service 'b' { cmd = 'two' }\n");
  CHECK(platform.open_probes().size() == in_flight);
  platform.finish_probes("db", passed());
  CHECK(svc("db").health_state() == HealthState::healthy);
}
