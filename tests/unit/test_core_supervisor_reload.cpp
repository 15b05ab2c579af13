#include "core/supervisor.hpp"
#include "support/fake_platform.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>

using namespace luvsup;
using core::ProcState;
using core::ServiceSpec;

namespace {

// A policy that gives up at once: the service goes fatal on its first crash.
class GiveUp final : public core::RestartPolicy {
public:
  core::RestartDecision decide(const core::ServiceView&, const core::ExitRecord&) override {
    core::RestartDecision d;
    d.reason = "gave up";
    return d;
  }
};

// A policy that always waits a minute.
class Slow final : public core::RestartPolicy {
public:
  core::RestartDecision decide(const core::ServiceView&, const core::ExitRecord&) override {
    core::RestartDecision d;
    d.delay = 60;
    return d;
  }
};

std::shared_ptr<ServiceSpec> make(std::string name, std::vector<core::Dependency> deps = {}) {
  auto s = std::make_shared<ServiceSpec>();
  s->name = std::move(name);
  s->argv = {"/bin/sleep", "100"};
  s->depends_on = std::move(deps);
  s->restart = std::make_shared<core::DefaultBackoff>();
  return s;
}

struct Fixture {
  Fixture() { spdlog::set_level(spdlog::level::off); }
  test::FakePlatform platform;
  core::Supervisor supervisor{platform};

  core::Service& svc(const std::string& name) { return *supervisor.find(name); }
  void exit(const std::string& name, int code, int sig = 0) {
    platform.alive[name] = 0;
    supervisor.on_process_exit(svc(name).pid(), core::ExitStatus{code, sig, false});
  }
  // Plans and applies a reload to `next`; returns the log line.
  std::string reload(const std::vector<std::shared_ptr<ServiceSpec>>& next) {
    std::vector<std::shared_ptr<const ServiceSpec>> specs(next.begin(), next.end());
    std::vector<const ServiceSpec*> view;
    for (const auto& s : next) view.push_back(s.get());
    const auto plan = core::plan_reload(supervisor.specs(), view);
    return supervisor.apply_reload(plan, std::move(specs));
  }
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a cmd change restarts only that service") {
  supervisor.add(make("api"));
  supervisor.add(make("cache"));
  supervisor.start_all();
  const pid_t cache_pid = svc("cache").pid();
  auto api = make("api");
  api->argv = {"/bin/sleep", "200"};
  CHECK(reload({api, make("cache")}) == "reload: ~api (cmd changed: restarted)");
  REQUIRE(platform.signals.size() == 1);
  CHECK(platform.signals[0].service == "api");
  exit("api", -1, SIGTERM);
  platform.advance(0.1);
  CHECK(svc("api").state() == ProcState::running);
  CHECK(svc("api").spec().argv[1] == "200");
  CHECK(svc("api").history().back().cause == core::ExitCause::restarted_by_reload);
  CHECK(platform.removed.empty());  // a restart keeps what the platform holds for it
  CHECK(svc("cache").pid() == cache_pid);
}

TEST_CASE_FIXTURE(Fixture, "a policy-only change keeps the pid and swaps in the new spec") {
  supervisor.add(make("cache"));
  supervisor.start_all();
  const pid_t pid = svc("cache").pid();
  const uint64_t generation = svc("cache").spec_generation();
  const auto in_flight = svc("cache").spec_ptr();  // what a probe started now would hold
  auto cache = make("cache");
  cache->restart = std::make_shared<GiveUp>();
  cache->restart_fingerprint = 1;
  CHECK(reload({cache}) == fmt::format("reload: ~cache (restart changed: kept pid {})", pid));
  CHECK(platform.signals.empty());
  CHECK(svc("cache").pid() == pid);
  CHECK(svc("cache").spec_generation() == generation + 1);
  CHECK(&svc("cache").spec() != in_flight.get());
  CHECK(in_flight.use_count() == 1);  // only the work in flight keeps the old spec
  exit("cache", 1);
  CHECK(svc("cache").state() == ProcState::fatal);  // the new policy decided
}

TEST_CASE_FIXTURE(Fixture, "identical specs change nothing and keep the running specs") {
  supervisor.add(make("a"));
  supervisor.start_all();
  const auto* before = &svc("a").spec();
  CHECK(reload({make("a")}) == "reload: no changes");
  CHECK(&svc("a").spec() == before);
}

TEST_CASE_FIXTURE(Fixture, "added services start after their dependencies and removed ones stop dependents first") {
  supervisor.add(make("db"));
  supervisor.add(make("old_api", {{"old_db", "started", false}}));
  supervisor.add(make("old_db"));
  supervisor.start_all();
  CHECK(reload({make("web", {{"db", "started", false}}), make("db")}) == "reload: +web -old_api -old_db");
  CHECK(svc("web").state() == ProcState::running);
  REQUIRE(platform.signals.size() == 1);
  CHECK(platform.signals[0].service == "old_api");
  CHECK(supervisor.specs().size() == 2);
  exit("old_api", -1, SIGTERM);
  platform.advance(0.1);
  REQUIRE(platform.signals.size() == 2);
  CHECK(platform.signals[1].service == "old_db");
  exit("old_db", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(supervisor.find("old_api") == nullptr);
  CHECK(supervisor.find("old_db") == nullptr);
  CHECK(supervisor.services().size() == 2);
  std::sort(platform.removed.begin(), platform.removed.end());
  CHECK(platform.removed == std::vector<std::string>{"old_api", "old_db"});
}

TEST_CASE_FIXTURE(Fixture, "a service removed and added back before it stopped starts again") {
  supervisor.add(make("a"));
  supervisor.start_all();
  reload({});
  CHECK(svc("a").state() == ProcState::stopping);
  CHECK(reload({make("a")}) == "reload: +a");
  exit("a", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("a").state() == ProcState::running);
  CHECK(supervisor.services().size() == 1);
  CHECK(platform.removed.empty());  // it never left the stack: its cgroup stays
}

TEST_CASE_FIXTURE(Fixture, "a fix revives a fatal service and cuts a backoff wait short") {
  auto broken = make("broken");
  broken->restart = std::make_shared<GiveUp>();
  auto waiting = make("waiting");
  waiting->restart = std::make_shared<Slow>();
  supervisor.add(broken);
  supervisor.add(waiting);
  supervisor.start_all();
  exit("broken", 1);
  exit("waiting", 1);
  REQUIRE(svc("broken").state() == ProcState::fatal);
  REQUIRE(svc("waiting").state() == ProcState::backoff);
  auto fixed = make("broken");
  fixed->argv = {"/bin/fixed"};
  auto patient = make("waiting");
  patient->restart_fingerprint = 9;
  CHECK(reload({fixed, patient}) ==
        "reload: ~broken (cmd changed: started again) ~waiting (restart changed: started again)");
  CHECK(svc("broken").state() == ProcState::running);
  CHECK(svc("waiting").state() == ProcState::running);
  CHECK(svc("broken").history().size() == 1);  // runtime state survives
}

TEST_CASE_FIXTURE(Fixture, "a reload never starts a service the user stopped") {
  supervisor.add(make("a"));
  supervisor.start_all();
  supervisor.stop(svc("a"));
  exit("a", -1, SIGTERM);
  platform.advance(0.5);
  REQUIRE(svc("a").state() == ProcState::stopped);
  auto changed = make("a");
  changed->argv = {"/bin/other"};
  CHECK(reload({changed}) == "reload: ~a (cmd changed: applied)");
  CHECK(svc("a").state() == ProcState::stopped);
  CHECK(platform.spawned.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "a reload during a start makes the start use the new definition") {
  supervisor.add(make("db"));
  supervisor.add(make("web", {{"db", "completed", false}}));
  supervisor.start_all();
  REQUIRE(svc("web").state() == ProcState::starting);
  auto web = make("web", {{"db", "started", false}});
  web->argv = {"/bin/web", "--new"};
  CHECK(reload({make("db"), web}) == "reload: ~web (cmd, depends_on changed: applied)");
  CHECK(svc("web").state() == ProcState::running);
  CHECK(svc("web").spec().argv[1] == "--new");
}

TEST_CASE_FIXTURE(Fixture, "a reload during a stop for a restart restarts once with the new definition") {
  supervisor.add(make("a"));
  supervisor.start_all();
  supervisor.restart(svc("a"));
  REQUIRE(svc("a").state() == ProcState::stopping);
  auto changed = make("a");
  changed->argv = {"/bin/new"};
  CHECK(reload({changed}) == "reload: ~a (cmd changed: restarted)");
  exit("a", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("a").state() == ProcState::running);
  CHECK(platform.spawned.size() == 2);
  CHECK(platform.signals.size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "a dependent with restart = true restarts with its dependency") {
  supervisor.add(make("db"));
  supervisor.add(make("api", {{"db", "started", true}}));
  supervisor.add(make("batch", {{"db", "started", false}}));
  supervisor.start_all();
  const pid_t batch = svc("batch").pid();
  auto db = make("db");
  db->env = {{"V", "2"}};
  CHECK(reload({db, make("api", {{"db", "started", true}}), make("batch", {{"db", "started", false}})}) ==
        "reload: ~db (env changed: restarted) ~api (db restarted: restarted)");
  exit("db", -1, SIGTERM);
  exit("api", -1, SIGTERM);
  platform.advance(0.5);
  CHECK(svc("db").state() == ProcState::running);
  CHECK(svc("api").state() == ProcState::running);
  CHECK(svc("batch").pid() == batch);
}
