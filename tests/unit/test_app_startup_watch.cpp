#include "app/startup_watch.hpp"
#include "core/supervisor.hpp"
#include "support/fake_platform.hpp"
#include "support/service_specs.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <optional>

using namespace luvsup;

namespace {

struct Fixture {
  Fixture() {
    spdlog::set_level(spdlog::level::off);
    supervisor.set_state_observer([this](const core::Service& s, core::ProcState from) {
      bus.publish(events::StateChange{s.name(), from, s.state(), 0});
    });
  }
  test::FakePlatform platform;
  events::EventBus bus;
  core::Supervisor supervisor{platform};
  std::optional<std::string> summary;
  app::StartupWatch watch{bus, supervisor, [this](const std::string& s) { summary = s; }};
};

} // namespace

TEST_CASE_FIXTURE(Fixture, "the stack is up once every wanted service runs") {
  supervisor.add(test::make_service_spec("db"));
  supervisor.add(test::make_service_spec("web", {"db"}));
  supervisor.start_all();
  watch.begin();
  REQUIRE(summary.has_value());
  CHECK(*summary == "2 services running");
}

TEST_CASE_FIXTURE(Fixture, "the watch is on the event stream only until it has reported") {
  CHECK(bus.subscriber_count() == 0);
  supervisor.add(test::make_service_spec("db"));
  supervisor.start_all();
  watch.begin();
  REQUIRE(summary.has_value());
  CHECK(bus.subscriber_count() == 0);
}

TEST_CASE_FIXTURE(Fixture, "a service that failed to spawn counts as failed, not as pending") {
  platform.failing_spawns.insert("web");
  supervisor.add(test::make_service_spec("db"));
  supervisor.add(test::make_service_spec("web"));
  supervisor.start_all();
  watch.begin();
  REQUIRE(summary.has_value());
  CHECK(*summary == "1 service running, 1 failed (web)");
}

TEST_CASE_FIXTURE(Fixture,
                  "a dependent of a stopped service does not keep the stack from being up") {
  supervisor.add(test::make_service_spec("db"));
  supervisor.add(test::make_service_spec("web", {"db"}));
  supervisor.hold_down("db", true);
  supervisor.start_all();
  watch.begin();
  REQUIRE(summary.has_value());
  CHECK(*summary == "0 services running, 1 waiting for a stopped or failed dependency (web)");
}
