// Readiness gating dependents, what unhealthy does without an on_unhealthy
// hook (test_core_hooks.cpp has the hooks), and blocked dependents, on the
// fake clock with the real Lua definitions.
#include "health_fixture.hpp"

using luvsup::core::ExitCause;
using luvsup::core::HealthState;
using luvsup::core::ProcState;
using namespace luvsup::test;

TEST_CASE_FIXTURE(HealthFixture,
                  "a healthy dependency starts its dependent only once its probe passes") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 5432 } }\n"
       "service 'web' { cmd = 'x', depends_on = { db = 'healthy' } }\n");
  CHECK(svc("db").state() == ProcState::running);
  CHECK(svc("web").state() == ProcState::starting);
  round("db", failed());
  CHECK(spawns("web") == 0);
  round("db", passed());
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "a service with neither a health check nor a ready key is ready once started") {
  load("service 'db' { cmd = 'x' }\n"
       "service 'web' { cmd = 'x', depends_on = { db = 'healthy' } }\n");
  CHECK(svc("db").ready());
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "a ready key waits for its signal, reported through report_ready") {
  load("service 'db' { cmd = 'x', ready = { log = 'listening' } }\n"
       "service 'web' { cmd = 'x', depends_on = { db = 'healthy' } }\n");
  platform.advance(30);
  CHECK_FALSE(svc("db").ready());
  CHECK(svc("web").state() == ProcState::starting);
  supervisor.report_ready(svc("db"), "log");
  CHECK(svc("db").ready());
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "readiness belongs to one process: after a restart it is awaited again") {
  load("service 'db' { cmd = 'x', ready = { fd = 3 }, restart = backoff.fixed(1) }\n");
  supervisor.report_ready(svc("db"), "fd");
  CHECK(svc("db").ready());
  exit("db", 1);
  CHECK_FALSE(svc("db").ready());
  platform.advance(1.5);
  CHECK(svc("db").state() == ProcState::running);
  CHECK_FALSE(svc("db").ready());
}

TEST_CASE_FIXTURE(HealthFixture, "completed waits for a oneshot to exit 0") {
  load("service 'migrate' { cmd = 'x', oneshot = true }\n"
       "service 'web' { cmd = 'x', depends_on = { migrate = 'completed' } }\n");
  CHECK(svc("web").state() == ProcState::starting);
  exit("migrate", 0);
  CHECK(svc("migrate").state() == ProcState::completed);
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "a fatal dependency blocks the dependent, which starts once it is ready") {
  load("service 'db' { cmd = 'x', restart = 'never', health = health.tcp(5432) }\n"
       "service 'web' { cmd = 'x', depends_on = { db = 'healthy' } }\n");
  exit("db", 1);
  CHECK(svc("db").state() == ProcState::fatal);
  CHECK(svc("web").state() == ProcState::blocked);
  CHECK(svc("web").block_reason().find("dependency 'db' is fatal") == 0);
  supervisor.start(svc("db"));
  CHECK(spawns("web") == 0);
  round("db", passed());
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "a dependency not ready within start_timeout blocks the dependent until it is") {
  load("service 'db' { cmd = 'x', health = health.tcp { port = 5432, start_period = 100, interval "
       "= 1 } }\n"
       "service 'web' { cmd = 'x', depends_on = { db = 'healthy' }, start_timeout = 5 }\n");
  platform.advance(4.9);
  platform.finish_probes("db", failed());
  CHECK(svc("web").state() == ProcState::starting);
  platform.advance(0.2);
  CHECK(svc("web").state() == ProcState::blocked);
  CHECK(svc("web").block_reason() == "dependency 'db' not ready within 5s");
  round("db", passed());
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(HealthFixture, "a blocked dependent stops when asked and at shutdown") {
  load("service 'db' { cmd = 'x', health = health.tcp(5432) }\n"
       "service 'web' { cmd = 'x', depends_on = { db = 'healthy' }, start_timeout = 1 }\n");
  platform.advance(1.5);
  REQUIRE(svc("web").state() == ProcState::blocked);
  bool done = false;
  supervisor.shutdown([&](bool) { done = true; });
  CHECK(svc("web").state() == ProcState::stopped);
  exit("db", -1, SIGTERM);
  platform.advance(1);
  CHECK(done);
}

TEST_CASE_FIXTURE(HealthFixture,
                  "an unhealthy service is restarted through its restart policy, backing off") {
  load("service 'api' { cmd = 'x', health = health.tcp { port = 1, retries = 1 },\n"
       "  restart = backoff.exponential { initial = 2, factor = 2, jitter = 0 } }\n");
  std::vector<double> delays;
  for (int i = 0; i < 3; ++i) {
    round("api", failed());
    REQUIRE(svc("api").state() == ProcState::stopping);
    exit("api", -1, SIGTERM);
    platform.advance(0.5);
    REQUIRE((svc("api").state() == ProcState::backoff ||
             svc("api").state() == ProcState::crash_looping));
    CHECK(svc("api").history().back().cause == ExitCause::killed_by_health);
    const double since = platform.now();
    while (svc("api").state() != ProcState::running) {
      platform.advance(0.1);
    }
    delays.push_back(platform.now() - since);
  }
  REQUIRE(delays.size() == 3);
  CHECK(delays[0] == doctest::Approx(1.5).epsilon(0.1)); // 2 s after the exit, 0.5 s already passed
  CHECK(delays[1] == doctest::Approx(3.5).epsilon(0.1));
  CHECK(delays[2] == doctest::Approx(7.5).epsilon(0.1));
}

TEST_CASE_FIXTURE(HealthFixture,
                  "report_health_failure (a missed watchdog) fires on_unhealthy at once") {
  load("service 'a' { cmd = 'x', ready = { notify = true }, watchdog = 10 }\n");
  supervisor.report_health_failure(svc("a"), "no WATCHDOG=1 within 10s");
  CHECK(sigterms("a") == 1);
  exit("a", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("a").history().back().cause == ExitCause::killed_by_health);
}
