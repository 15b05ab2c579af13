// on_unhealthy with the real Lua health judge on the fake clock: the service
// keeps being probed while its hook runs, and "wait" gives it a fresh round
// of retries.
#include "health_fixture.hpp"
#include "support/fake_service_hooks.hpp"

using namespace luvsup;
using K = core::HookKind;

namespace {
struct UnhealthyFixture : test::HealthFixture {
  std::shared_ptr<test::FakeServiceHooks> hooks =
      std::make_shared<test::FakeServiceHooks>(std::set<K>{K::on_unhealthy});

  // Like HealthFixture::load, with `hooks` on every service.
  void load_hooked(const std::string& stack) {
    auto result = lua::load_stack(dir.write("stack.lua", "local health = require 'luvsup.health'\n" + stack));
    if (auto* err = std::get_if<lua::LoadError>(&result)) {
      FAIL("unexpected load error: " << err->message);
    }
    def = std::move(std::get<lua::StackDefinition>(result));
    for (auto spec : def.services) {
      spec.hooks = hooks;
      supervisor.add(std::make_shared<const core::ServiceSpec>(std::move(spec)));
    }
    supervisor.start_all();
  }
};
}  // namespace

TEST_CASE_FIXTURE(UnhealthyFixture,
                  "on_unhealthy gets the failing result; wait restarts the count of retries") {
  load_hooked("service 'api' { cmd = 'x', health = health.tcp { port = 1, retries = 2, interval = 1 } }\n");
  round("api", test::failed("refused"));
  round("api", test::failed("refused"));
  REQUIRE(hooks->count(K::on_unhealthy) == 1);
  const auto& call = *hooks->calls[0];
  REQUIRE(call.health);
  CHECK(call.health->counters.failures == 2);
  CHECK(call.health->reason.find("refused") != std::string::npos);
  round("api", test::failed("refused"));  // probing goes on while the hook runs
  hooks->finish(K::on_unhealthy, test::unhealthy_action(core::UnhealthyAction::wait));
  round("api", test::failed("refused"));  // 1 failure since the wait: not yet
  CHECK(hooks->count(K::on_unhealthy) == 1);
  round("api", test::failed("refused"));  // 2: a fresh round of retries is over
  CHECK(hooks->count(K::on_unhealthy) == 2);
  CHECK(sigterms("api") == 0);
  CHECK(svc("api").state() == core::ProcState::running);
}
