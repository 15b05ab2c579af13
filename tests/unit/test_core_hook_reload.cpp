// Hooks across a reload: cancelled when the reload removes or restarts their
// service, finished otherwise, and an outcome of a replaced definition never
// acts.
#include "support/hook_fixture.hpp"

#include <csignal>

using namespace luvsup;
using core::ProcState;
using K = core::HookKind;

namespace {
// A copy of `base` for the next stack, with `hooks` instead of its own.
std::shared_ptr<core::ServiceSpec> next_of(const core::ServiceSpec& base,
                                           std::shared_ptr<test::FakeServiceHooks> hooks = nullptr) {
  auto s = std::make_shared<core::ServiceSpec>(base);
  if (hooks) {
    s->hooks = std::move(hooks);
    s->hook_fingerprints[0] = base.hook_fingerprints[0] + 1;
  }
  return s;
}
}  // namespace

TEST_CASE_FIXTURE(test::HookFixture, "removing a service cancels its hooks in flight and runs no more") {
  auto old = spec("old", {K::on_start, K::after_stop, K::on_exit});
  auto keep = spec("keep", {K::on_start});
  supervisor.add(old);
  supervisor.add(keep);
  supervisor.start_all();
  REQUIRE(hooks("old").open(K::on_start).size() == 1);
  reload({next_of(*keep)});
  CHECK(hooks("old").calls[0]->cancelled);
  CHECK_FALSE(hooks("keep").calls[0]->cancelled);  // other hooks finish
  exit("old", -1, SIGTERM);
  platform.advance(1);
  CHECK(hooks("old").calls.size() == 1);  // neither on_exit nor after_stop for a removed service
  CHECK(supervisor.find("old") == nullptr);
  hooks("keep").finish(K::on_start);
}

TEST_CASE_FIXTURE(test::HookFixture, "a reload that restarts a service cancels its hooks in flight") {
  auto web = spec("web", {K::on_start, K::before_start});
  supervisor.add(web);
  supervisor.start_all();
  REQUIRE(svc("web").state() == ProcState::preparing);
  auto changed = next_of(*web);
  changed->argv = {"/bin/false"};
  reload({changed});
  CHECK(hooks("web").calls[0]->cancelled);
  REQUIRE(hooks("web").count(K::before_start) == 2);  // asked again for the new definition
  hooks("web").finish(K::before_start);
  CHECK(svc("web").state() == ProcState::running);
  REQUIRE(hooks("web").open(K::on_start).size() == 1);

  auto again = next_of(*changed);
  again->argv = {"/bin/true"};
  reload({again});
  CHECK(hooks("web").open(K::on_start).empty());  // cancelled by the restart
  CHECK(hooks("web").of(K::on_start).back()->cancelled);
}

TEST_CASE_FIXTURE(test::HookFixture, "a reload elsewhere keeps a hook in flight and its outcome") {
  auto web = spec("web", {K::before_start});
  auto other = spec("other", {});
  supervisor.add(web);
  supervisor.add(other);
  supervisor.start_all();
  auto other2 = next_of(*other);
  other2->argv = {"/bin/false"};
  reload({next_of(*web), other2});
  CHECK_FALSE(hooks("web").calls[0]->cancelled);
  hooks("web").finish(K::before_start, test::refused("no"));
  CHECK(svc("web").history().back().cause == core::ExitCause::start_refused);
}

TEST_CASE_FIXTURE(test::HookFixture,
                  "an outcome of a replaced hook definition does not act: the new one decides") {
  auto web = spec("web", {K::before_start});
  supervisor.add(web);
  supervisor.start_all();
  auto fresh = std::make_shared<test::FakeServiceHooks>(std::set<K>{K::before_start});
  reload({next_of(*web, fresh)});
  REQUIRE(hooks("web").open(K::before_start).size() == 1);  // finishes in the old state
  hooks("web").finish(K::before_start, test::refused("old definition"));
  CHECK(svc("web").history().empty());  // dropped
  REQUIRE(fresh->count(K::before_start) == 1);
  CHECK(svc("web").state() == ProcState::preparing);
  fresh->finish(K::before_start);
  CHECK(svc("web").state() == ProcState::running);
}

TEST_CASE_FIXTURE(test::HookFixture, "a changed on_unhealthy drops the decision of the old one") {
  auto web = spec("web", {K::on_unhealthy});
  supervisor.add(web);
  supervisor.start_all();
  supervisor.report_health_failure(svc("web"), "x");
  auto fresh = std::make_shared<test::FakeServiceHooks>(std::set<K>{K::on_unhealthy});
  reload({next_of(*web, fresh)});
  hooks("web").finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::restart));
  CHECK(signals("web", SIGTERM) == 0);
  supervisor.report_health_failure(svc("web"), "x");
  REQUIRE(fresh->count(K::on_unhealthy) == 1);
  fresh->finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::restart));
  CHECK(signals("web", SIGTERM) == 1);
}

TEST_CASE("a change of hooks is a live change") {
  core::ServiceSpec a;
  a.name = "web";
  core::ServiceSpec b = a;
  b.hook_fingerprints[static_cast<size_t>(core::HookKind::on_exit)] = 7;
  std::vector<const core::ServiceSpec*> running{&a}, next{&b};
  const auto plan = core::plan_reload(running, next);
  REQUIRE(plan.changed.size() == 1);
  CHECK(plan.changed[0].restart_keys.empty());
  REQUIRE(plan.changed[0].live_keys.size() == 1);
  CHECK(plan.changed[0].live_keys[0] == "on_exit");
}
