// When each hook runs and what waits for it, on the fake clock with
// FakeServiceHooks standing in for the Lua hooks.
#include "support/hook_fixture.hpp"

#include <csignal>

using namespace luvsup;
using core::ExitCause;
using core::HookKind;
using core::ProcState;
using K = core::HookKind;

namespace {
std::shared_ptr<test::DelayPolicy> delays(std::vector<std::optional<double>> d) {
  return std::make_shared<test::DelayPolicy>(std::move(d));
}
}  // namespace

TEST_CASE_FIXTURE(test::HookFixture, "fire-and-forget hooks run at their moment with their context") {
  auto policy = delays({1.0, 1.0, 1.0, std::nullopt});
  supervisor.add(spec("web", {K::on_start, K::on_ready, K::on_exit, K::on_crash_loop, K::on_fatal},
                      {}, policy));
  supervisor.start_all();
  auto& h = hooks("web");
  REQUIRE(h.count(K::on_start) == 1);
  CHECK(h.calls[0]->kind == K::on_start);
  CHECK(h.calls[0]->service == "web");
  CHECK(h.calls[1]->kind == K::on_ready);  // nothing to wait for: ready once started
  CHECK(svc("web").state() == ProcState::running);  // nothing waited for them

  exit("web", 3);
  REQUIRE(h.count(K::on_exit) == 1);
  const auto& first = *h.of(K::on_exit)[0];
  REQUIRE(first.exit);
  CHECK(first.exit->cause == ExitCause::crashed);
  CHECK(first.exit->status.code == 3);
  CHECK(first.restarts == 0);
  CHECK(svc("web").state() == ProcState::backoff);
  h.finish(K::on_exit);

  for (int i = 0; i < 2; ++i) {
    platform.advance(1.5);
    REQUIRE(svc("web").state() == ProcState::running);
    exit("web", 1);
    h.finish(K::on_exit);
  }
  CHECK(svc("web").state() == ProcState::crash_looping);
  CHECK(h.count(K::on_crash_loop) == 1);
  CHECK(h.of(K::on_exit).back()->restarts == 2);
  platform.advance(1.5);
  exit("web", 1);
  CHECK(svc("web").state() == ProcState::fatal);
  CHECK(h.count(K::on_fatal) == 1);
  CHECK(h.count(K::on_crash_loop) == 1);  // once per crash loop, not per exit in it
  CHECK(h.count(K::on_start) == 4);
}

TEST_CASE_FIXTURE(test::HookFixture, "on_ready fires when a readiness signal arrives") {
  auto s = spec("db", {K::on_ready});
  s->ready.log_pattern = "listening";
  supervisor.add(s);
  supervisor.start_all();
  CHECK(hooks("db").count(K::on_ready) == 0);
  supervisor.report_ready(svc("db"), "log");
  CHECK(hooks("db").count(K::on_ready) == 1);
  supervisor.report_ready(svc("db"), "log");
  CHECK(hooks("db").count(K::on_ready) == 1);
}

TEST_CASE_FIXTURE(test::HookFixture, "before_start runs once dependencies are met and holds the spawn") {
  supervisor.add(spec("db", {}));
  supervisor.add(spec("web", {K::before_start}, {"db"}));
  supervisor.start_all();
  CHECK(hooks("web").count(K::before_start) == 1);
  CHECK(svc("web").state() == ProcState::preparing);
  CHECK(core::to_string(svc("web").state()) == "starting");
  CHECK(spawns("web") == 0);
  platform.advance(30);
  CHECK(spawns("web") == 0);
  hooks("web").finish(K::before_start);
  CHECK(svc("web").state() == ProcState::running);
  CHECK(spawns("web") == 1);
}

TEST_CASE_FIXTURE(test::HookFixture,
                  "a refused, failed or timed-out before_start is a failed start that backs off, then goes fatal") {
  auto policy = delays({2.0, 4.0, std::nullopt});
  supervisor.add(spec("web", {K::before_start}, {}, policy));
  supervisor.start_all();
  auto& h = hooks("web");

  h.finish(K::before_start, test::refused("port 5000 is in use"));
  CHECK(svc("web").state() == ProcState::backoff);
  REQUIRE(policy->seen.size() == 1);
  CHECK(policy->seen[0].cause == ExitCause::start_refused);
  CHECK(policy->seen[0].uptime == 0);
  CHECK(core::describe(svc("web").history().back()) == "refused by before_start: port 5000 is in use");
  CHECK(core::to_string(ExitCause::start_refused) == "start refused");

  platform.advance(1.9);
  CHECK(h.count(K::before_start) == 1);  // the backoff delay holds
  platform.advance(0.2);
  REQUIRE(h.count(K::before_start) == 2);
  h.finish(K::before_start, test::hook_failed("stack.lua:3: boom\nstack traceback: ..."));
  CHECK(svc("web").history().back().error == "before_start failed: stack.lua:3: boom");
  CHECK(svc("web").state() == ProcState::backoff);

  platform.advance(4.1);
  REQUIRE(h.count(K::before_start) == 3);
  h.finish(K::before_start, test::hook_timed_out());
  CHECK(svc("web").history().back().error == "before_start timed out: timed out after 5s");
  CHECK(svc("web").state() == ProcState::fatal);
  CHECK(svc("web").fatal_reason() == "max_restarts reached");
  CHECK(spawns("web") == 0);
}

TEST_CASE_FIXTURE(test::HookFixture, "a refusal without a reason says so") {
  supervisor.add(spec("web", {K::before_start}));
  supervisor.start_all();
  hooks("web").finish(K::before_start, test::refused(""));
  CHECK(svc("web").history().back().error == "refused by before_start");
}

TEST_CASE_FIXTURE(test::HookFixture, "a stop or a shutdown while before_start runs cancels it") {
  supervisor.add(spec("a", {K::before_start}));
  supervisor.add(spec("b", {K::before_start}));
  supervisor.start_all();
  supervisor.stop(svc("a"));
  CHECK(svc("a").state() == ProcState::stopped);
  CHECK(hooks("a").calls[0]->cancelled);
  bool done = false;
  supervisor.shutdown([&](bool) { done = true; });
  CHECK(hooks("b").calls[0]->cancelled);
  CHECK(done);
  CHECK(spawns("a") + spawns("b") == 0);
}

TEST_CASE_FIXTURE(test::HookFixture, "the restart after a crash waits for on_exit; a stop does not") {
  supervisor.add(spec("web", {K::on_exit}, {}, delays({1.0})));
  supervisor.start_all();
  exit("web", 1);
  platform.advance(5);
  CHECK(svc("web").state() == ProcState::backoff);
  CHECK(spawns("web") == 1);
  hooks("web").finish(K::on_exit);
  CHECK(svc("web").state() == ProcState::running);
  CHECK(spawns("web") == 2);

  supervisor.stop(svc("web"));
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("web").state() == ProcState::stopped);
  REQUIRE(hooks("web").open(K::on_exit).size() == 1);
  CHECK(hooks("web").open(K::on_exit)[0]->exit->cause == ExitCause::stopped_by_user);
}

TEST_CASE_FIXTURE(test::HookFixture, "an on_exit that finishes within the backoff does not delay the restart") {
  supervisor.add(spec("web", {K::on_exit}, {}, delays({1.0})));
  supervisor.start_all();
  exit("web", 1);
  hooks("web").finish(K::on_exit);
  platform.advance(0.9);
  CHECK(spawns("web") == 1);
  platform.advance(0.2);
  CHECK(spawns("web") == 2);
}

TEST_CASE_FIXTURE(test::HookFixture, "after_stop holds the end of a stop") {
  supervisor.add(spec("web", {K::after_stop}));
  supervisor.start_all();
  supervisor.stop(svc("web"));
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("web").state() == ProcState::finishing);
  CHECK(core::to_string(svc("web").state()) == "stopping");
  platform.advance(60);  // outside a shutdown only its own timeout bounds it
  CHECK(svc("web").state() == ProcState::finishing);
  hooks("web").finish(K::after_stop);
  CHECK(svc("web").state() == ProcState::stopped);
}

TEST_CASE_FIXTURE(test::HookFixture,
                  "at shutdown after_stop holds the reverse order and is cut at the stop timeout") {
  auto db = spec("db", {K::after_stop});
  auto web = spec("web", {K::after_stop}, {"db"});
  web->stop.timeout = 3;
  supervisor.add(db);
  supervisor.add(web);
  supervisor.start_all();
  bool done = false;
  supervisor.shutdown([&](bool) { done = true; });
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  REQUIRE(svc("web").state() == ProcState::finishing);
  CHECK(signals("db", SIGTERM) == 0);  // db waits for its dependent's after_stop
  platform.advance(2.0);
  CHECK(signals("db", SIGTERM) == 0);
  platform.advance(1.0);  // 3 s after after_stop began: cut
  CHECK(hooks("web").calls.back()->cancelled);
  CHECK(svc("web").state() == ProcState::stopped);
  CHECK(signals("db", SIGTERM) == 1);
  exit("db", -1, SIGTERM);
  platform.advance(0.5);
  CHECK_FALSE(done);
  hooks("db").finish(K::after_stop);
  CHECK(done);
}

TEST_CASE_FIXTURE(test::HookFixture, "a shutdown during a user's stop bounds its after_stop too") {
  auto web = spec("web", {K::after_stop});
  web->stop.timeout = 2;
  supervisor.add(web);
  supervisor.start_all();
  supervisor.stop(svc("web"));
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  REQUIRE(svc("web").state() == ProcState::finishing);
  bool done = false;
  supervisor.shutdown([&](bool) { done = true; });
  platform.advance(2.1);
  CHECK(done);
  CHECK(hooks("web").calls.back()->cancelled);
}

TEST_CASE_FIXTURE(test::HookFixture, "a start during after_stop starts the service once it finished") {
  supervisor.add(spec("web", {K::after_stop}));
  supervisor.start_all();
  supervisor.stop(svc("web"));
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  supervisor.start(svc("web"));
  CHECK(spawns("web") == 1);
  hooks("web").finish(K::after_stop);
  CHECK(svc("web").state() == ProcState::running);
  CHECK(spawns("web") == 2);
}

TEST_CASE_FIXTURE(test::HookFixture,
                  "on_unhealthy decides while the service runs: restart, wait or nothing") {
  auto a = spec("a", {K::on_unhealthy}, {}, delays({1.0}));
  supervisor.add(a);
  supervisor.start_all();
  auto& h = hooks("a");
  supervisor.report_health_failure(svc("a"), "watchdog missed");
  REQUIRE(h.count(K::on_unhealthy) == 1);
  REQUIRE(h.calls.back()->health);
  CHECK(h.calls.back()->health->reason == "watchdog missed");
  CHECK(svc("a").state() == ProcState::running);
  supervisor.report_health_failure(svc("a"), "watchdog missed again");
  CHECK(h.count(K::on_unhealthy) == 1);  // one run at a time

  h.finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::none));
  CHECK(signals("a", SIGTERM) == 0);
  supervisor.report_health_failure(svc("a"), "watchdog missed");
  h.finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::wait));
  CHECK(signals("a", SIGTERM) == 0);
  CHECK(svc("a").state() == ProcState::running);

  supervisor.report_health_failure(svc("a"), "watchdog missed");
  h.finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::restart));
  CHECK(signals("a", SIGTERM) == 1);
  exit("a", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("a").history().back().cause == ExitCause::killed_by_health);
  CHECK(svc("a").state() == ProcState::backoff);  // through the restart policy
}

TEST_CASE_FIXTURE(test::HookFixture, "a failing or timed-out on_unhealthy restarts, like the default") {
  supervisor.add(spec("a", {K::on_unhealthy}));
  supervisor.add(spec("b", {K::on_unhealthy}));
  supervisor.add(spec("c", {}));
  supervisor.start_all();
  supervisor.report_health_failure(svc("a"), "x");
  supervisor.report_health_failure(svc("b"), "x");
  supervisor.report_health_failure(svc("c"), "x");
  CHECK(signals("c", SIGTERM) == 1);  // no hook: at once
  CHECK(signals("a", SIGTERM) == 0);
  hooks("a").finish(K::on_unhealthy, test::hook_failed("stack.lua:6: broke"));
  hooks("b").finish(K::on_unhealthy, test::hook_timed_out());
  CHECK(signals("a", SIGTERM) == 1);
  CHECK(signals("b", SIGTERM) == 1);
}

TEST_CASE_FIXTURE(test::HookFixture, "an on_unhealthy decision for a process that is gone is dropped") {
  supervisor.add(spec("a", {K::on_unhealthy}, {}, delays({1.0})));
  supervisor.start_all();
  supervisor.report_health_failure(svc("a"), "x");
  exit("a", 1);
  platform.advance(1.5);
  REQUIRE(svc("a").state() == ProcState::running);
  hooks("a").finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::restart));
  CHECK(signals("a", SIGTERM) == 0);
}

TEST_CASE_FIXTURE(test::HookFixture, "finished hooks are released, cancelled ones never report") {
  supervisor.add(spec("web", {K::on_start, K::before_start}));
  supervisor.start_all();
  hooks("web").finish(K::before_start);
  hooks("web").finish(K::on_start);
  settle();
  CHECK_FALSE(hooks("web").calls[0]->cancelled);
  CHECK_FALSE(svc("web").hook_running(K::before_start));
  CHECK_FALSE(svc("web").hook_running(K::on_start));
}

TEST_CASE_FIXTURE(test::HookFixture, "a second interrupt cancels after_stop at once") {
  supervisor.add(spec("web", {K::after_stop}));
  supervisor.start_all();
  bool done = false;
  supervisor.shutdown([&](bool) { done = true; });
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  REQUIRE(svc("web").state() == ProcState::finishing);
  supervisor.kill_all();
  CHECK(hooks("web").calls.back()->cancelled);
  CHECK(svc("web").state() == ProcState::stopped);
  CHECK(done);
}
