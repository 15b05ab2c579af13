// ReadinessState on a fake clock: ready once, STATUS on change, STOPPING,
// and the watchdog kept alive, missed, re-armed and silenced.
#include "readiness/readiness_state.hpp"
#include "support/fake_platform.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace luvsup;
using namespace luvsup::readiness;

namespace {

struct Recorder {
  std::vector<Signal> signals;
  ReadinessState::Emit emit() {
    return [this](const Signal& s) { signals.push_back(s); };
  }
};

NotifyMessage msg(const char* text) {
  return parse_notify_message(text);
}

} // namespace

TEST_CASE("ready is reported once per run, whichever channel says it first") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(0, platform.make_timer(), r.emit());
  state.on_ready("fd");
  state.on_notify(msg("READY=1"));
  state.on_ready("log", "listening");
  REQUIRE(r.signals.size() == 1);
  CHECK(r.signals[0] == Signal{SignalKind::ready, "fd", ""});
  CHECK(state.ready());
}

TEST_CASE("a ready log line carries the line") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(0, nullptr, r.emit());
  state.on_ready("log", "server listening on :8080");
  REQUIRE(r.signals.size() == 1);
  CHECK(r.signals[0] == Signal{SignalKind::ready, "log", "server listening on :8080"});
}

TEST_CASE("STATUS is reported only when its text changes, with control characters masked") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(0, nullptr, r.emit());
  state.on_notify(msg("STATUS=Starting"));
  state.on_notify(msg("STATUS=Starting"));
  state.on_notify(msg("STATUS=Accepting connections\nREADY=1"));
  state.on_notify(parse_notify_message(std::string("STATUS=\x1b[31mred\t")));
  REQUIRE(r.signals.size() == 4);
  CHECK(r.signals[0] == Signal{SignalKind::status, "notify", "Starting"});
  CHECK(r.signals[1] == Signal{SignalKind::status, "notify", "Accepting connections"});
  CHECK(r.signals[2] == Signal{SignalKind::ready, "notify", ""});
  CHECK(r.signals[3] == Signal{SignalKind::status, "notify", "?[31mred?"});
  CHECK(state.status() == "?[31mred?");
}

TEST_CASE("STOPPING=1 is reported once") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(0, nullptr, r.emit());
  state.on_notify(msg("STOPPING=1"));
  state.on_notify(msg("STOPPING=1"));
  REQUIRE(r.signals.size() == 1);
  CHECK(r.signals[0].kind == SignalKind::stopping);
}

TEST_CASE("a watchdog kept alive by WATCHDOG=1 never fires") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(2.0, platform.make_timer(), r.emit());
  state.on_notify(msg("READY=1"));
  CHECK(state.watchdog_armed());
  for (int i = 0; i < 10; ++i) {
    platform.advance(1.5);
    state.on_notify(msg("WATCHDOG=1"));
  }
  REQUIRE(r.signals.size() == 1); // only the ready
  CHECK(state.watchdog_armed());
}

TEST_CASE("a watchdog without WATCHDOG=1 for its period is missed once, and re-armed by the next") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(2.0, platform.make_timer(), r.emit());
  state.on_notify(msg("READY=1"));
  platform.advance(1.9);
  CHECK(r.signals.size() == 1);
  platform.advance(0.2);
  REQUIRE(r.signals.size() == 2);
  CHECK(r.signals[1] == Signal{SignalKind::watchdog_missed, "notify", "no WATCHDOG=1 for 2s"});
  CHECK_FALSE(state.watchdog_armed());
  platform.advance(10);
  CHECK(r.signals.size() == 2); // reported once, not every period
  state.on_notify(msg("WATCHDOG=1"));
  platform.advance(2.1);
  REQUIRE(r.signals.size() == 3);
  CHECK(r.signals[2].kind == SignalKind::watchdog_missed);
}

TEST_CASE("the watchdog starts with the first WATCHDOG=1 when READY=1 has not come") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(1.0, platform.make_timer(), r.emit());
  platform.advance(5);
  CHECK(r.signals.empty()); // not armed before either
  state.on_notify(msg("WATCHDOG=1"));
  platform.advance(1.1);
  REQUIRE(r.signals.size() == 1);
  CHECK(r.signals[0].kind == SignalKind::watchdog_missed);
}

TEST_CASE("WATCHDOG=trigger is an immediate watchdog failure") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(5.0, platform.make_timer(), r.emit());
  state.on_notify(msg("READY=1"));
  state.on_notify(msg("WATCHDOG=trigger"));
  REQUIRE(r.signals.size() == 2);
  CHECK(r.signals[1] == Signal{SignalKind::watchdog_missed, "notify",
                               "the service reported a failure (WATCHDOG=trigger)"});
  platform.advance(6);
  CHECK(r.signals.size() == 2); // the timer was stopped with it
}

TEST_CASE("a service being stopped, or stopping by itself, is not watched") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState stopped(1.0, platform.make_timer(), r.emit());
  stopped.on_notify(msg("READY=1"));
  stopped.service_stopping();
  stopped.on_notify(msg("WATCHDOG=1"));
  CHECK_FALSE(stopped.watchdog_armed());
  ReadinessState stopping(1.0, platform.make_timer(), r.emit());
  stopping.on_notify(msg("READY=1\nSTOPPING=1"));
  CHECK_FALSE(stopping.watchdog_armed());
  platform.advance(3);
  for (const auto& s : r.signals) {
    CHECK(s.kind != SignalKind::watchdog_missed);
  }
}

TEST_CASE("without a watchdog, WATCHDOG=1 is accepted and changes nothing") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(0, platform.make_timer(), r.emit());
  state.on_notify(msg("READY=1\nWATCHDOG=1"));
  CHECK_FALSE(state.watchdog_armed());
  platform.advance(100);
  CHECK(r.signals.size() == 1);
}

TEST_CASE("a ready log line or fd also arms the watchdog") {
  test::FakePlatform platform;
  Recorder r;
  ReadinessState state(1.0, platform.make_timer(), r.emit());
  state.on_ready("log", "up");
  CHECK(state.watchdog_armed());
  platform.advance(1.5);
  REQUIRE(r.signals.size() == 2);
  CHECK(r.signals[1].kind == SignalKind::watchdog_missed);
}

TEST_CASE("signal kinds have the names the log uses") {
  CHECK(std::string(kind_name(SignalKind::ready)) == "ready");
  CHECK(std::string(kind_name(SignalKind::status)) == "status");
  CHECK(std::string(kind_name(SignalKind::stopping)) == "stopping");
  CHECK(std::string(kind_name(SignalKind::watchdog_missed)) == "watchdog missed");
}
