#include "control/status_json.hpp"
#include "core/supervisor.hpp"
#include "support/fake_platform.hpp"
#include "support/fake_service_hooks.hpp"
#include "support/service_specs.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <csignal>

using namespace luvsup;
using nlohmann::json;

namespace {

struct Fixture {
  Fixture() { spdlog::set_level(spdlog::level::off); }
  test::FakePlatform platform;
  core::Supervisor supervisor{platform};
  json status(const std::string& name) {
    control::JsonWriter out;
    control::write_service_status(out, supervisor, *supervisor.find(name), platform.now(),
                                  platform.wall_now());
    return json::parse(out.text());
  }
};

} // namespace

TEST_CASE_FIXTURE(Fixture, "a running service shows its pid, uptime and an empty health object") {
  supervisor.add(test::make_service_spec("web"));
  supervisor.start_all();
  platform.advance(12);
  const json s = status("web");
  CHECK(s["name"] == "web");
  CHECK(s["state"] == "running");
  CHECK(s["pid"] == supervisor.find("web")->pid());
  CHECK(s["uptime"].get<double>() == doctest::Approx(12));
  CHECK(s["restarts"] == 0);
  CHECK(s["wanted"] == "up");
  CHECK(s["held_down"] == false);
  CHECK(s["last_exit"].is_null());
  CHECK(s["reason"].is_null());
  CHECK(s["health"]["status"].is_null());
  CHECK(s["health"]["failures"] == 0);
}

TEST_CASE_FIXTURE(Fixture, "the last exit describes how the process ended") {
  supervisor.add(test::make_service_spec("web"));
  supervisor.start_all();
  platform.alive["web"] = 0;
  supervisor.on_process_exit(supervisor.find("web")->pid(), core::ExitStatus{-1, SIGSEGV, true});
  const json s = status("web");
  CHECK(s["state"] == "backoff");
  CHECK(s["pid"].is_null());
  CHECK(s["uptime"].is_null());
  CHECK(s["last_exit"]["cause"] == "crashed");
  CHECK(s["last_exit"]["code"].is_null());
  CHECK(s["last_exit"]["signal"] == "SIGSEGV");
  CHECK(s["last_exit"]["core_dumped"] == true);
  CHECK(s["last_exit"]["description"].get<std::string>().find("SEGV") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture,
                  "a service held down by a stop says so and is not pulled in by a dependent") {
  supervisor.add(test::make_service_spec("db"));
  supervisor.add(test::make_service_spec("web", {"db"}));
  supervisor.hold_down("db", true);
  supervisor.start_all();
  CHECK(supervisor.find("db")->state() == core::ProcState::stopped);
  CHECK(status("db")["held_down"] == true);
  CHECK(status("db")["reason"] == "stopped by the user (luvsup start clears it)");
  CHECK(status("web")["state"] == "starting");
  CHECK(status("web")["reason"] == "waiting for db (started), stopped by the user");
  supervisor.hold_down("db", false);
  supervisor.start(*supervisor.find("db"));
  CHECK(status("web")["state"] == "running");
}

TEST_CASE_FIXTURE(Fixture, "state changes reach the observer with the state left behind") {
  std::vector<std::string> seen;
  supervisor.set_state_observer([&](const core::Service& s, core::ProcState from) {
    seen.push_back(s.name() + ":" + std::string(core::to_string(from)) + "->" +
                   std::string(core::to_string(s.state())));
  });
  supervisor.add(test::make_service_spec("web"));
  supervisor.start_all();
  CHECK(seen == std::vector<std::string>{"web:stopped->starting", "web:starting->running"});
}

TEST_CASE_FIXTURE(Fixture, "an exit luvsup caused names its cause, so a stop never reads like a crash") {
  supervisor.add(test::make_service_spec("web"));
  supervisor.start_all();
  const pid_t pid = supervisor.find("web")->pid();
  supervisor.stop(*supervisor.find("web"));
  platform.alive["web"] = 0;
  supervisor.on_process_exit(pid, core::ExitStatus{-1, SIGTERM, false});
  platform.advance(1);
  const json s = status("web");
  CHECK(s["state"] == "stopped");
  CHECK(s["last_exit"]["cause"] == "stopped_by_user");
  CHECK(s["last_exit"]["description"] == "stopped by user: killed by signal TERM");
}

TEST_CASE_FIXTURE(Fixture, "a refused start and a hook holding a transition show in the status") {
  auto spec = test::make_service_spec("web");
  auto hooks = std::make_shared<test::FakeServiceHooks>(
      std::set<core::HookKind>{core::HookKind::before_start});
  spec->hooks = hooks;
  supervisor.add(spec);
  supervisor.start_all();
  json s = status("web");
  CHECK(s["state"] == "starting");
  CHECK(s["reason"] == "its before_start hook runs");
  hooks->finish(core::HookKind::before_start, test::refused("port 5000 is in use"));
  s = status("web");
  CHECK(s["last_exit"]["cause"] == "start_refused");
  CHECK(s["last_exit"]["code"].is_null());
  CHECK(s["last_exit"]["description"] == "refused by before_start: port 5000 is in use");
}
