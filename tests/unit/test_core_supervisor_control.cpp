// runbook::ServiceControl on the Supervisor (what svc handles do) and the
// circuit breaker, on the fake clock.
#include "support/hook_fixture.hpp"

#include <csignal>

using namespace luvsup;
using core::ExitCause;
using core::ProcState;
using K = core::HookKind;

namespace {
std::shared_ptr<test::DelayPolicy> delays(std::vector<std::optional<double>> d) {
  return std::make_shared<test::DelayPolicy>(std::move(d));
}

// Collects what a watch reports.
struct Met {
  std::vector<std::string> results;
  std::function<void(std::string)> callback() {
    return [this](std::string error) { results.push_back(std::move(error)); };
  }
};
}  // namespace

TEST_CASE_FIXTURE(test::HookFixture, "find gives a snapshot of a service, nothing for an unknown one") {
  supervisor.add(spec("web", {}));
  supervisor.start_all();
  auto& control = supervisor.control();
  auto snap = control.find("web");
  REQUIRE(snap);
  CHECK(snap->name == "web");
  CHECK(snap->state == "running");
  CHECK(snap->pid == svc("web").pid());
  CHECK(snap->restarts == 0);
  CHECK(snap->ready);
  CHECK(snap->health == "none");
  CHECK_FALSE(control.find("nope"));
  CHECK(control.restart("nope") == "no service 'nope' in the stack");
  CHECK(control.stop("nope") == "no service 'nope' in the stack");
  CHECK(control.start("nope") == "no service 'nope' in the stack");
  CHECK(control.signal("nope", SIGHUP) == "no service 'nope' in the stack");
}

TEST_CASE_FIXTURE(test::HookFixture, "a hook's restart goes through the restart policy and backs off") {
  auto policy = delays({1.0, 2.0, 4.0});
  supervisor.add(spec("web", {}, {}, policy));
  supervisor.start_all();
  auto& control = supervisor.control();
  for (int i = 0; i < 3; ++i) {
    REQUIRE(svc("web").state() == ProcState::running);
    CHECK(control.restart("web") == "");
    REQUIRE(svc("web").state() == ProcState::stopping);
    exit("web", -1, SIGTERM);
    platform.advance(0.05);
    CHECK(svc("web").history().back().cause == ExitCause::restarted_by_hook);
    CHECK(control.restart("web") == "");  // in backoff: the pending restart stands
    const int before = spawns("web");
    platform.advance(*std::vector<std::optional<double>>{1.0, 2.0, 4.0}[i] - 0.1);
    CHECK(spawns("web") == before);  // no hot loop
    platform.advance(0.1);
    CHECK(spawns("web") == before + 1);
  }
  REQUIRE(policy->seen.size() == 3);
  CHECK(policy->seen[2].cause == ExitCause::restarted_by_hook);
  CHECK(core::to_string(ExitCause::restarted_by_hook) == "restarted by hook");
}

TEST_CASE_FIXTURE(test::HookFixture, "restart starts a stopped service and refuses a fatal one") {
  auto a = spec("a", {}, {}, delays({std::nullopt}));
  a->autostart = false;
  supervisor.add(a);
  supervisor.start_all();
  auto& control = supervisor.control();
  CHECK(control.restart("a") == "");
  CHECK(svc("a").state() == ProcState::running);
  exit("a", 1);
  REQUIRE(svc("a").state() == ProcState::fatal);
  CHECK(control.restart("a").find("'a' is fatal (max_restarts reached)") == 0);
  CHECK(control.start("a") == "");
  CHECK(svc("a").state() == ProcState::running);
}

TEST_CASE_FIXTURE(test::HookFixture, "stop and start act like the CLI's without holding the service down") {
  supervisor.add(spec("web", {}));
  supervisor.start_all();
  auto& control = supervisor.control();
  CHECK(control.stop("web") == "");
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("web").state() == ProcState::stopped);
  CHECK_FALSE(supervisor.held_down(svc("web")));
  CHECK(control.start("web") == "");
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(test::HookFixture, "signal reaches a running service and fails for one without a process") {
  auto idle = spec("idle", {});
  idle->autostart = false;
  supervisor.add(spec("web", {}));
  supervisor.add(idle);
  supervisor.start_all();
  auto& control = supervisor.control();
  CHECK(control.signal("web", SIGHUP) == "");
  REQUIRE(platform.sent.size() == 1);
  CHECK(platform.sent[0].service == "web");
  CHECK(platform.sent[0].sig == SIGHUP);
  CHECK(platform.signals.empty());  // not a stop
  CHECK(control.signal("idle", SIGHUP) == "'idle' has no process (stopped)");
}

TEST_CASE_FIXTURE(test::HookFixture, "watch reports each condition after the event, never inline") {
  auto task = spec("task", {});
  task->oneshot = true;
  auto db = spec("db", {});
  db->ready.log_pattern = "ready";
  supervisor.add(task);
  supervisor.add(db);
  supervisor.start_all();
  auto& control = supervisor.control();
  Met started, healthy, completed, stopped;
  auto w1 = control.watch("db", "started", started.callback());
  auto w2 = control.watch("db", "healthy", healthy.callback());
  auto w3 = control.watch("task", "completed", completed.callback());
  auto w4 = control.watch("db", "stopped", stopped.callback());
  CHECK(started.results.empty());  // met already, but not inline
  settle();
  CHECK(started.results == std::vector<std::string>{""});
  CHECK(healthy.results.empty());
  supervisor.report_ready(svc("db"), "log");
  CHECK(healthy.results.empty());
  settle();
  CHECK(healthy.results == std::vector<std::string>{""});
  exit("task", 0);
  settle();
  CHECK(completed.results == std::vector<std::string>{""});
  supervisor.stop(svc("db"));
  exit("db", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(stopped.results == std::vector<std::string>{""});
  CHECK(started.results.size() == 1);  // once
}

TEST_CASE_FIXTURE(test::HookFixture, "a watch fails when the service goes fatal or is removed, and a cancelled one is silent") {
  auto db = spec("db", {}, {}, delays({std::nullopt}));
  db->ready.log_pattern = "ready";
  auto gone = spec("gone", {});
  gone->autostart = false;
  supervisor.add(db);
  supervisor.add(gone);
  supervisor.start_all();
  auto& control = supervisor.control();
  Met fatal, removed, cancelled, unknown, bad;
  auto w1 = control.watch("db", "healthy", fatal.callback());
  auto w2 = control.watch("gone", "started", removed.callback());
  auto w3 = control.watch("db", "healthy", cancelled.callback());
  auto w4 = control.watch("nope", "started", unknown.callback());
  auto w5 = control.watch("db", "up", bad.callback());
  w3.reset();
  exit("db", 1);
  reload({std::make_shared<core::ServiceSpec>(*db)});
  settle();
  CHECK(fatal.results == std::vector<std::string>{"'db' is fatal (max_restarts reached)"});
  CHECK(removed.results == std::vector<std::string>{"'gone' was removed from the stack"});
  CHECK(cancelled.results.empty());
  CHECK(unknown.results == std::vector<std::string>{"no service 'nope' in the stack"});
  CHECK(bad.results ==
        std::vector<std::string>{"unknown condition 'up'; expected started, healthy, completed or stopped"});
}

TEST_CASE_FIXTURE(test::HookFixture, "service_of_pid finds a service by main pid, process group, tag or cgroup") {
  supervisor.add(spec("web", {}));
  supervisor.add(spec("db", {}));
  supervisor.start_all();
  auto& control = supervisor.control();
  CHECK(control.service_of_pid(svc("web").pid()) == std::optional<std::string>("web"));
  platform.owners[4242] = "db";     // a grandchild carrying db's tag
  platform.owners[4343] = "other";  // another stack's service
  CHECK(control.service_of_pid(4242) == std::optional<std::string>("db"));
  CHECK_FALSE(control.service_of_pid(4343));
  CHECK_FALSE(control.service_of_pid(1));
}

TEST_CASE_FIXTURE(test::HookFixture,
                  "a crash-looping dependency holds dependents that are not running, which start when it recovers") {
  supervisor.add(spec("db", {}, {}, delays({1.0, 1.0, 1.0})));
  supervisor.add(spec("api", {}, {"db"}));
  auto web = spec("web", {}, {"db"});
  web->autostart = false;
  supervisor.add(web);
  supervisor.start_all();
  REQUIRE(svc("api").state() == ProcState::running);
  for (int i = 0; i < 3; ++i) {
    exit("db", 1);
    platform.advance(1.5);
  }
  exit("db", 1);
  REQUIRE(svc("db").state() == ProcState::crash_looping);
  supervisor.start(svc("web"));
  CHECK(svc("web").state() == ProcState::blocked);
  CHECK(svc("web").block_reason() == "dependency 'db' is crash-looping");
  CHECK(svc("api").state() == ProcState::running);  // already running: keeps running
  CHECK(spawns("web") == 0);
  platform.advance(1.5);  // db runs again
  CHECK(svc("db").state() == ProcState::running);
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(test::HookFixture, "a blocked dependent's reason follows its dependency") {
  supervisor.add(spec("db", {}, {}, delays({1.0, 1.0, 1.0, std::nullopt})));
  auto web = spec("web", {}, {"db"});
  web->autostart = false;
  supervisor.add(web);
  platform.failing_spawns.insert("db");
  supervisor.start_all();
  platform.advance(1.1);
  platform.advance(1.1);
  REQUIRE(svc("db").state() == ProcState::crash_looping);
  supervisor.start(svc("web"));
  REQUIRE(svc("web").block_reason() == "dependency 'db' is crash-looping");
  platform.advance(1.1);
  REQUIRE(svc("db").state() == ProcState::fatal);
  CHECK(svc("web").state() == ProcState::blocked);
  CHECK(svc("web").block_reason() == "dependency 'db' is fatal (max_restarts reached)");
}
