// The health monitor and the Lua judge on the fake clock: schedule,
// thresholds, start period, fallback, composites, verdicts.
#include "health_fixture.hpp"

using luvsup::core::HealthState;
using luvsup::core::ProbeSpec;
using luvsup::core::ProcState;
using namespace luvsup::test;

TEST_CASE_FIXTURE(HealthFixture,
                  "the first probe runs start_interval after the spawn, then every interval") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 5432, interval = 5, start_interval "
       "= 2 } }\n");
  CHECK(platform.open_probes().empty());
  platform.advance(1.9);
  CHECK(platform.open_probes().empty());
  platform.advance(0.2);
  REQUIRE(platform.open_probes().size() == 1);
  CHECK(platform.open_probes()[0]->spec.kind == ProbeSpec::Kind::tcp);
  CHECK(platform.open_probes()[0]->spec.port == 5432);
  CHECK(svc("db").health_state() == HealthState::starting);
  platform.finish_probes("db", passed());
  CHECK(svc("db").health_state() == HealthState::healthy);
  CHECK(svc("db").ready());
  platform.advance(4.9);
  CHECK(platform.open_probes().empty());
  platform.advance(0.2);
  CHECK(platform.open_probes().size() == 1);
}

TEST_CASE_FIXTURE(HealthFixture, "one probe round is in flight at a time") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1, timeout = 5 } }\n");
  platform.advance(10);
  CHECK(platform.open_probes().size() == 1);
  CHECK(platform.probes.size() == 1);
}

TEST_CASE_FIXTURE(
    HealthFixture,
    "retries failures in a row make it unhealthy, and a pass in between resets them") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1, retries = 3 } }\n");
  round("db", passed());
  round("db", failed());
  round("db", failed());
  round("db", passed());
  round("db", failed());
  round("db", failed());
  CHECK(svc("db").health_state() == HealthState::healthy);
  CHECK(svc("db").health()->counters.failures == 2);
  CHECK(sigterms("db") == 0);
  round("db", failed("connection refused"));
  CHECK(svc("db").health_state() == HealthState::unhealthy);
  CHECK(svc("db").health()->reason == "connection refused");
  CHECK(sigterms("db") == 1);
}

TEST_CASE_FIXTURE(HealthFixture, "success_threshold passes in a row are needed to be healthy") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1, success_threshold "
       "= 2 } }\n");
  round("db", passed());
  CHECK(svc("db").health_state() == HealthState::starting);
  round("db", failed());
  round("db", passed());
  CHECK(svc("db").health_state() == HealthState::starting);
  round("db", passed());
  CHECK(svc("db").health_state() == HealthState::healthy);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "failures during the start period do not count and the first pass ends it") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1, start_interval = "
       "1,\n"
       "  retries = 1, start_period = 10 } }\n");
  for (int i = 0; i < 5; ++i) {
    round("db", failed());
  }
  CHECK(svc("db").health_state() == HealthState::starting);
  CHECK(svc("db").health()->counters.failures == 0);
  round("db", passed());
  CHECK(svc("db").health_state() == HealthState::healthy);
  round("db", failed()); // still within 10 s of the spawn, but the period ended with the pass
  CHECK(svc("db").health_state() == HealthState::unhealthy);
  CHECK(sigterms("db") == 1);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "once the start period is over, failures count even without a pass") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 1, interval = 1, start_interval = "
       "1,\n"
       "  retries = 2, start_period = 3 } }\n");
  round("db", failed());
  round("db", failed());
  CHECK(svc("db").health()->counters.failures == 0);
  round("db", failed());
  round("db", failed());
  CHECK(svc("db").health_state() == HealthState::unhealthy);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "a passing fallback keeps a service whose primary never passed healthy") {
  load("service 'api' { cmd = 'x', health = health.exec { cmd = 'false', interval = 1, retries = "
       "1,\n"
       "  fallback = health.tcp { port = 80 } } }\n");
  for (int i = 0; i < 20; ++i) {
    REQUIRE(await_probe("api"));
    CHECK(platform.open_probes().size() == 2);
    platform.finish_probes("api", failed("exited with code 1"), ProbeSpec::Kind::exec);
    platform.finish_probes("api", passed(), ProbeSpec::Kind::tcp);
  }
  CHECK(svc("api").health_state() == HealthState::healthy);
  CHECK(sigterms("api") == 0);
  CHECK(svc("api").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "after the primary passed, the fallback excuses it for fallback_grace only") {
  load("service 'api' { cmd = 'x', health = health.exec { cmd = 'check', interval = 1, retries = "
       "1,\n"
       "  fallback = health.tcp { port = 80 }, fallback_grace = 3 } }\n");
  round("api", passed());
  CHECK(svc("api").health_state() == HealthState::healthy);
  const double first_failure = platform.now();
  while (sigterms("api") == 0) {
    REQUIRE(await_probe("api"));
    platform.finish_probes("api", failed("exited with code 1"), ProbeSpec::Kind::exec);
    platform.finish_probes("api", passed(), ProbeSpec::Kind::tcp);
    REQUIRE(platform.now() - first_failure < 10);
  }
  CHECK(platform.now() - first_failure >= 3);
  CHECK(svc("api").health()->reason.find("grace of 3s is over") != std::string::npos);
}

TEST_CASE_FIXTURE(HealthFixture, "a failing fallback does not excuse the primary") {
  load("service 'api' { cmd = 'x', health = health.exec { cmd = 'false', interval = 1, retries = "
       "1,\n"
       "  fallback = health.tcp { port = 80 } } }\n");
  round("api", failed("nope"));
  CHECK(svc("api").health_state() == HealthState::unhealthy);
  CHECK(svc("api").health()->reason == "nope; fallback: nope");
}

TEST_CASE_FIXTURE(HealthFixture, "health.all needs every probe and health.any one of them") {
  load("service 'a' { cmd = 'x', health = health.all { health.tcp(1), health.tcp(2), retries = 1, "
       "interval = 1 } }\n"
       "service 'b' { cmd = 'x', health = health.any { health.tcp(1), health.tcp(2), retries = 1, "
       "interval = 1 } }\n");
  REQUIRE(await_probe("a"));
  for (const auto& p : platform.open_probes()) {
    p->finished = true;
    p->done(p->spec.port == 1 ? passed() : failed("refused on 2"));
  }
  CHECK(svc("a").health_state() == HealthState::unhealthy);
  CHECK(svc("a").health()->reason == "refused on 2");
  CHECK(svc("b").health_state() == HealthState::healthy);
}

TEST_CASE_FIXTURE(HealthFixture, "a verdict function decides on the raw result") {
  load("service 'a' { cmd = 'x', health = health.tcp { port = 1, retries = 1,\n"
       "  verdict = function(r) return r.latency < 0.5, 'slow: ' .. r.latency end } }\n");
  round("a", passed(1.0));
  CHECK(svc("a").health_state() == HealthState::unhealthy);
  CHECK(svc("a").health()->reason == "slow: 1.0");
}

TEST_CASE_FIXTURE(HealthFixture, "a verdict that keeps its results finds them as they were, round after round") {
  // The judge refills its result tables every round; what a verdict may keep
  // (an all/any's results, a leaf's own result) must be a copy.
  load("local first_leaf, first_own\n"
       "service 'a' { cmd = 'x', health = health.all { health.tcp(1), retries = 5, interval = 1,\n"
       "  verdict = function(r)\n"
       "    if first_leaf and first_leaf.ok ~= true then return false, 'kept result changed' end\n"
       "    first_leaf = first_leaf or r.results[1]; return true end } }\n"
       "service 'b' { cmd = 'x', health = health.tcp { port = 2, retries = 5, interval = 1,\n"
       "  verdict = function(r)\n"
       "    if first_own and first_own.ok ~= true then return false, 'kept result changed' end\n"
       "    first_own = first_own or r; return true end } }\n");
  for (const char* name : {"a", "b"}) {
    CAPTURE(name);
    round(name, passed());
    round(name, failed("second round"));
    round(name, failed("third round"));
    CHECK(svc(name).health_state() == HealthState::healthy);
    CHECK(svc(name).health()->reason.empty());
  }
}

TEST_CASE_FIXTURE(HealthFixture, "a raising verdict fails the probe and luvsup carries on") {
  load("service 'a' { cmd = 'x', health = health.tcp { port = 1, retries = 2, interval = 1,\n"
       "  verdict = function(r) error('broken verdict') end } }\n");
  round("a", passed());
  CHECK(svc("a").health()->reason.find("broken verdict") != std::string::npos);
  CHECK(svc("a").health()->counters.failures == 1);
}

TEST_CASE_FIXTURE(HealthFixture, "a Lua function is a probe, called in each round") {
  load("n = 0\n"
       "service 'a' { cmd = 'x', health = function() n = n + 1; return n >= 3, 'not yet ' .. n end "
       "}\n");
  platform.advance(1.05);
  CHECK(svc("a").health()->reason == "not yet 1");
  CHECK(platform.probes.empty());
  platform.advance(2);
  CHECK(svc("a").health_state() == HealthState::healthy);
}

TEST_CASE_FIXTURE(HealthFixture, "stopping the service cancels the probe in flight") {
  load("service 'a' { cmd = 'x', health = health.exec { cmd = 'sleep 100', timeout = 30 } }\n");
  REQUIRE(await_probe("a"));
  auto probe = platform.open_probes()[0];
  supervisor.stop(svc("a"));
  CHECK(probe->cancelled);
  exit("a", -1, SIGTERM);
  platform.advance(100);
  CHECK(platform.open_probes().empty());
}

TEST_CASE("a round is moved to the nearest point of a grid of a fiftieth of its delay") {
  using luvsup::health::coalesced_delay;
  CHECK(coalesced_delay(100.0, 1.0) == doctest::Approx(1.0));
  // A result 7 ms into the grid step: the next round stays on the same point.
  CHECK(coalesced_delay(100.007, 1.0) == doctest::Approx(0.993));
  CHECK(coalesced_delay(100.013, 1.0) == doctest::Approx(1.007));
  // The grid is at most 50 ms, however long the delay.
  CHECK(coalesced_delay(100.02, 10.0) == doctest::Approx(9.98));
  CHECK(coalesced_delay(100.03, 10.0) == doctest::Approx(10.02));
  CHECK(coalesced_delay(100.0, 0.0) == 0.0);
  CHECK(coalesced_delay(100.0013, 0.01) >= 0.0);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "rounds of services whose results came a few milliseconds apart start together") {
  load("service 'a' { cmd = 'x', health = health.tcp { port = 1, interval = 1 } }\n"
       "service 'b' { cmd = 'x', health = health.tcp { port = 2, interval = 1 } }\n");
  platform.advance(1.0);
  REQUIRE(platform.open_probes().size() == 2);
  platform.advance(0.002);
  platform.finish_probes("a", passed());
  platform.advance(0.006);
  platform.finish_probes("b", passed());
  platform.advance(0.98);
  CHECK(platform.open_probes().empty());
  platform.advance(0.015);
  CHECK(platform.open_probes().size() == 2);
}
