#include "core/supervisor.hpp"
#include "support/fake_platform.hpp"
#include "support/service_specs.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <csignal>

using namespace luvsup;
using core::ProcState;

namespace {

// A policy with a fixed, known delay sequence, so tests do not depend on jitter.
class ScriptedPolicy final : public core::RestartPolicy {
public:
  explicit ScriptedPolicy(std::vector<std::optional<double>> delays) : m_delays(std::move(delays)) {}
  core::RestartDecision decide(const core::ServiceView& view, const core::ExitRecord& exit) override {
    seen.push_back(exit);
    core::RestartDecision d;
    if (view.oneshot && exit.success) {
      return d;
    }
    d.delay = m_calls < m_delays.size() ? m_delays[m_calls] : m_delays.back();
    if (!d.delay) {
      d.reason = "budget exhausted";
    }
    d.crash_looping = m_calls >= 2;
    ++m_calls;
    return d;
  }
  std::vector<core::ExitRecord> seen;

private:
  std::vector<std::optional<double>> m_delays;
  size_t m_calls = 0;
};

struct Fixture {
  Fixture() { spdlog::set_level(spdlog::level::off); }
  test::FakePlatform platform;
  core::Supervisor supervisor{platform};

  core::Service& svc(const std::string& name) { return *supervisor.find(name); }
  void exit(const std::string& name, int code, int sig = 0) {
    platform.alive[name] = 0;
    supervisor.on_process_exit(svc(name).pid(), core::ExitStatus{code, sig, false});
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "services start in dependency order and stop in reverse order") {
  supervisor.add(test::make_service_spec("web", {"api"}));
  supervisor.add(test::make_service_spec("api", {"db"}));
  supervisor.add(test::make_service_spec("db"));
  supervisor.start_all();
  CHECK(platform.spawned == std::vector<std::string>{"db", "api", "web"});
  CHECK(svc("web").state() == ProcState::running);

  bool finished = false, clean = false;
  supervisor.shutdown([&](bool c) { finished = true; clean = c; });
  REQUIRE(platform.signals.size() == 1);
  CHECK(platform.signals[0].service == "web");
  CHECK(platform.signals[0].sig == SIGTERM);
  exit("web", -1, SIGTERM);
  platform.advance(0.5);
  REQUIRE(platform.signals.size() == 2);
  CHECK(platform.signals[1].service == "api");
  exit("api", 0);
  platform.advance(0.5);
  CHECK(platform.signals.back().service == "db");
  CHECK_FALSE(finished);
  exit("db", 0);
  platform.advance(0.5);
  CHECK(finished);
  CHECK(clean);
  CHECK(svc("db").history().back().cause == core::ExitCause::shutdown);
}

TEST_CASE_FIXTURE(Fixture, "the exit history keeps the last 64 exits, newest last") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{1.0});
  supervisor.add(test::make_service_spec("worker", {}, policy));
  supervisor.start_all();
  CHECK(svc("worker").history().empty());
  for (int code = 1; code <= 70; ++code) {
    exit("worker", code);
    platform.advance(1.1);
  }
  const auto& history = svc("worker").history();
  REQUIRE(history.size() == core::Service::k_history_capacity);
  CHECK(history.front().status.code == 70 - 64 + 1);
  CHECK(history.back().status.code == 70);
}

TEST_CASE_FIXTURE(Fixture, "a crashed service is restarted after the delay its policy chooses") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{1.0, 2.0, 4.0});
  supervisor.add(test::make_service_spec("worker", {}, policy));
  supervisor.start_all();
  const pid_t first = svc("worker").pid();
  exit("worker", 3);
  CHECK(svc("worker").state() == ProcState::backoff);
  REQUIRE(policy->seen.size() == 1);
  CHECK(policy->seen[0].cause == core::ExitCause::crashed);
  CHECK(policy->seen[0].status.code == 3);
  platform.advance(0.9);
  CHECK(svc("worker").state() == ProcState::backoff);
  platform.advance(0.2);
  CHECK(svc("worker").state() == ProcState::running);
  CHECK(svc("worker").pid() != first);
  CHECK(svc("worker").restarts() == 1);

  exit("worker", 1);
  platform.advance(2.1);
  exit("worker", -1, SIGKILL);
  CHECK(svc("worker").state() == ProcState::crash_looping);
  CHECK(policy->seen.back().status.signal == SIGKILL);
}

TEST_CASE_FIXTURE(Fixture, "a policy that gives up leaves the service fatal with its reason") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{std::nullopt});
  supervisor.add(test::make_service_spec("flaky", {}, policy));
  supervisor.start_all();
  exit("flaky", 1);
  CHECK(svc("flaky").state() == ProcState::fatal);
  CHECK(svc("flaky").fatal_reason() == "budget exhausted");
  platform.advance(3600);
  CHECK(platform.spawned.size() == 1);
  supervisor.start(svc("flaky"));
  CHECK(svc("flaky").state() == ProcState::running);
}

TEST_CASE_FIXTURE(Fixture, "a oneshot that succeeds is completed and not restarted") {
  auto spec = test::make_service_spec("migrate");
  spec->oneshot = true;
  supervisor.add(spec);
  supervisor.start_all();
  exit("migrate", 0);
  CHECK(svc("migrate").state() == ProcState::completed);
  CHECK(svc("migrate").history().back().cause == core::ExitCause::completed);
  platform.advance(100);
  CHECK(platform.spawned.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "success codes decide whether an exit is a success") {
  auto spec = test::make_service_spec("task");
  spec->oneshot = true;
  spec->success_codes = {0, 3};
  supervisor.add(spec);
  supervisor.start_all();
  exit("task", 3);
  CHECK(svc("task").state() == ProcState::completed);
}

TEST_CASE_FIXTURE(Fixture, "a failed spawn goes through the restart policy instead of a hot loop") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{1.0, 2.0});
  supervisor.add(test::make_service_spec("missing", {}, policy));
  platform.failing_spawns.insert("missing");
  supervisor.start_all();
  CHECK(svc("missing").state() == ProcState::backoff);
  REQUIRE(policy->seen.size() == 1);
  CHECK(policy->seen[0].cause == core::ExitCause::spawn_failed);
  CHECK(policy->seen[0].error.find("ENOENT") != std::string::npos);
  platform.advance(0.5);
  CHECK(platform.spawned.size() == 1);
  platform.advance(0.6);
  CHECK(platform.spawned.size() == 2);
}

TEST_CASE_FIXTURE(Fixture, "a service that ignores its stop signal is killed after the stop timeout") {
  supervisor.add(test::make_service_spec("stubborn"));
  supervisor.start_all();
  bool finished = false, clean = true;
  supervisor.shutdown([&](bool c) { finished = true; clean = c; });
  platform.advance(9.9);
  CHECK(platform.signals.size() == 1);
  platform.advance(0.2);
  REQUIRE(platform.signals.size() >= 2);
  CHECK(platform.signals[1].sig == SIGKILL);
  exit("stubborn", -1, SIGKILL);
  platform.advance(0.5);
  CHECK(finished);
  CHECK_FALSE(clean);
}

TEST_CASE_FIXTURE(Fixture, "leftover processes are stopped before a crashed service restarts") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{0.0});
  supervisor.add(test::make_service_spec("forky", {}, policy));
  supervisor.start_all();
  // The main process dies while a child it forked lives on.
  supervisor.on_process_exit(svc("forky").pid(), core::ExitStatus{1, 0, false});
  CHECK(svc("forky").state() == ProcState::stopping);
  REQUIRE(platform.signals.size() == 1);
  CHECK(platform.signals[0].sig == SIGTERM);
  platform.advance(1.0);
  CHECK(platform.spawned.size() == 1);
  platform.alive["forky"] = 0;
  platform.advance(0.5);
  CHECK(platform.spawned.size() == 2);
  CHECK(svc("forky").state() == ProcState::running);
}

TEST_CASE_FIXTURE(Fixture, "an explicit stop is not undone by the restart policy") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{0.0});
  supervisor.add(test::make_service_spec("web", {}, policy));
  supervisor.start_all();
  supervisor.stop(svc("web"));
  exit("web", -1, SIGTERM);
  platform.advance(1);
  CHECK(svc("web").state() == ProcState::stopped);
  CHECK(svc("web").history().back().cause == core::ExitCause::stopped_by_user);
  CHECK(policy->seen.empty());
  CHECK(platform.spawned.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "a restart stops the process and starts a new one at once") {
  supervisor.add(test::make_service_spec("web"));
  supervisor.start_all();
  supervisor.restart(svc("web"));
  CHECK(svc("web").state() == ProcState::stopping);
  exit("web", -1, SIGTERM);
  platform.advance(0.1);
  CHECK(svc("web").state() == ProcState::running);
  CHECK(platform.spawned.size() == 2);
}

TEST_CASE_FIXTURE(Fixture, "a dependency that is not autostarted is pulled in by its dependent") {
  auto db = test::make_service_spec("db");
  db->autostart = false;
  supervisor.add(db);
  supervisor.add(test::make_service_spec("api", {"db"}));
  supervisor.start_all();
  CHECK(platform.spawned == std::vector<std::string>{"db", "api"});
}

TEST_CASE_FIXTURE(Fixture, "a service in backoff at shutdown is stopped without spawning again") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{5.0});
  supervisor.add(test::make_service_spec("worker", {}, policy));
  supervisor.start_all();
  exit("worker", 1);
  bool finished = false;
  supervisor.shutdown([&](bool) { finished = true; });
  CHECK(finished);
  platform.advance(10);
  CHECK(platform.spawned.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "the exit record carries cause, code, signal and uptime") {
  auto policy = std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{1.0});
  supervisor.add(test::make_service_spec("w", {}, policy));
  supervisor.start_all();
  platform.advance(2.5);
  exit("w", -1, SIGSEGV);
  REQUIRE(policy->seen.size() == 1);
  const auto& rec = policy->seen[0];
  CHECK(rec.cause == core::ExitCause::crashed);
  CHECK(rec.status.signal == SIGSEGV);
  CHECK_FALSE(rec.success);
  CHECK(rec.uptime == doctest::Approx(2.5));
  CHECK(core::describe(rec) == "killed by signal SEGV");
}

TEST_CASE_FIXTURE(Fixture, "a dependent waiting for completed starts only after the task succeeded") {
  auto task = test::make_service_spec("migrate");
  task->oneshot = true;
  supervisor.add(task);
  auto app = test::make_service_spec("app");
  app->depends_on = {{"migrate", "completed"}};
  supervisor.add(app);
  supervisor.start_all();
  CHECK(platform.spawned == std::vector<std::string>{"migrate"});
  CHECK(svc("app").state() == ProcState::starting);
  exit("migrate", 0);
  CHECK(platform.spawned == std::vector<std::string>{"migrate", "app"});
}

TEST_CASE_FIXTURE(Fixture, "a kill during shutdown sends SIGKILL at once and counts as unclean") {
  auto spec = test::make_service_spec("slow");
  spec->stop.timeout = 300;
  supervisor.add(spec);
  supervisor.start_all();
  bool finished = false, clean = true;
  supervisor.shutdown([&](bool c) { finished = true; clean = c; });
  supervisor.kill_all();
  REQUIRE(platform.signals.size() == 2);
  CHECK(platform.signals[1].sig == SIGKILL);
  exit("slow", -1, SIGKILL);
  platform.advance(0.1);
  CHECK(finished);
  CHECK_FALSE(clean);
}

TEST_CASE_FIXTURE(Fixture, "a SIGKILL in one stop does not make later stops skip the grace period") {
  auto spec = test::make_service_spec("web", {}, std::make_shared<ScriptedPolicy>(std::vector<std::optional<double>>{0.0}));
  supervisor.add(spec);
  supervisor.start_all();
  supervisor.restart(svc("web"));
  platform.advance(10.1);  // ignores SIGTERM: killed
  CHECK(platform.signals.back().sig == SIGKILL);
  exit("web", -1, SIGKILL);
  platform.advance(0.5);
  REQUIRE(svc("web").state() == ProcState::running);

  const size_t before = platform.signals.size();
  bool finished = false, clean = false;
  supervisor.shutdown([&](bool c) { finished = true; clean = c; });
  platform.advance(5.0);  // well inside the 10 s stop timeout
  REQUIRE(platform.signals.size() == before + 1);
  CHECK(platform.signals.back().sig == SIGTERM);
  exit("web", 0);
  platform.advance(0.5);
  CHECK(finished);
  CHECK(clean);  // the earlier kill was not part of the shutdown
}

TEST_CASE_FIXTURE(Fixture, "processes that survive SIGKILL are given up on after a grace period") {
  supervisor.add(test::make_service_spec("unkillable"));
  supervisor.start_all();
  bool finished = false, clean = true;
  supervisor.shutdown([&](bool c) { finished = true; clean = c; });
  platform.advance(10.1);
  CHECK(platform.signals.back().sig == SIGKILL);
  platform.advance(4.0);
  CHECK_FALSE(finished);
  platform.advance(1.5);  // the main process never exits
  CHECK(finished);
  CHECK_FALSE(clean);
  CHECK(svc("unkillable").state() == ProcState::stopped);
}

TEST_CASE_FIXTURE(Fixture, "an exit for a reaped main pid that was reused is ignored") {
  supervisor.add(test::make_service_spec("forky"));
  supervisor.start_all();
  const pid_t old = svc("forky").pid();
  supervisor.on_process_exit(old, core::ExitStatus{1, 0, false});  // leftovers remain
  REQUIRE(svc("forky").state() == ProcState::stopping);
  const size_t exits = svc("forky").history().size();
  supervisor.on_process_exit(old, core::ExitStatus{0, 0, false});  // a stranger with that pid
  CHECK(svc("forky").history().size() == exits);
}
