#include "app/reloader.hpp"
#include "app/stack_validation.hpp"
#include "support/fake_platform.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <filesystem>

using namespace luvsup;
using core::ProcState;

namespace {

// A real stack on disk, loaded by the real loader, supervised on the fake platform.
struct Fixture {
  Fixture() { spdlog::set_level(spdlog::level::off); }

  void start(const std::string& stack) {
    path = dir.write("stack.lua", stack);
    environment.platform = &platform;
    auto loaded = app::load_and_order(path, &environment);
    REQUIRE(std::holds_alternative<app::OrderedStack>(loaded));
    auto& definition = std::get<app::OrderedStack>(loaded).definition;
    for (auto& spec : definition.services) {
      supervisor.add(std::make_shared<const core::ServiceSpec>(std::move(spec)));
    }
    reloader = std::make_unique<app::Reloader>(supervisor, platform, path, definition, environment);
    definition.services.clear();
    definition.lua.reset();
    supervisor.start_all();
  }
  // Rewrites the stack file and reloads because a file changed.
  app::ReloadOutcome edit(const std::string& stack, bool last_try = true) {
    dir.write("stack.lua", stack);
    return reloader->reload_if_changed("file change", last_try);
  }
  core::Service& svc(const std::string& name) { return *supervisor.find(name); }
  // The fake processes being stopped exit at once; removed services go.
  void settle() {
    for (const auto& service : supervisor.services()) {
      if (service->state() == ProcState::stopping) {
        platform.alive[service->name()] = 0;
        supervisor.on_process_exit(service->pid(), core::ExitStatus{-1, 15, false});
      }
    }
    platform.advance(1);
  }

  test::TempDir dir;
  std::string path;
  test::FakePlatform platform;
  runbook::Environment environment;  // declared before the supervisor: its specs hold schedulers that use it
  core::Supervisor supervisor{platform};
  std::unique_ptr<app::Reloader> reloader;
};

const char* k_stack_a = R"(
local backoff = require "luvsup.backoff"
service "web" { cmd = { "/bin/sleep", "100" }, restart = backoff.fixed { delay = 1 } }
service "api" { cmd = { "/bin/sleep", "101" }, restart = function() return 2 end }
)";
const char* k_stack_b = R"(
local backoff = require "luvsup.backoff"
service "web" { cmd = { "/bin/sleep", "200" }, restart = backoff.fixed { delay = 2 } }
service "api" { cmd = { "/bin/sleep", "101" }, restart = function() return 3 end }
service "extra" { cmd = { "/bin/sleep", "102" } }
)";

}  // namespace

TEST_CASE_FIXTURE(Fixture, "reloading the same files again loads nothing") {
  start(k_stack_a);
  CHECK(reloader->reload_if_changed("file change", true).status == app::ReloadStatus::files_same);
  const auto forced = reloader->reload("SIGHUP");
  CHECK(forced.status == app::ReloadStatus::applied);
  CHECK(forced.message == "reload: no changes");
}

TEST_CASE_FIXTURE(Fixture, "an edited stack applies exactly its changes through the real loader") {
  start(k_stack_a);
  const pid_t api = svc("api").pid();
  const auto outcome = edit(k_stack_b);
  CHECK(outcome.status == app::ReloadStatus::applied);
  CHECK(outcome.message == "reload: +extra ~web (cmd, restart changed: restarted) ~api (restart changed: kept pid " +
                               std::to_string(api) + ")");
  CHECK(reloader->last().ok);
  CHECK(reloader->last().trigger == "file change");
}

TEST_CASE_FIXTURE(Fixture, "a comment is no change, a policy function moved to another line applies live") {
  start(k_stack_a);
  CHECK(edit(std::string(k_stack_a) + "-- a comment\n").message == "reload: no changes");
  const pid_t api = svc("api").pid();
  CHECK(edit(std::string("\n") + k_stack_a).message ==
        "reload: ~api (restart changed: kept pid " + std::to_string(api) + ")");
}

TEST_CASE_FIXTURE(Fixture, "a stack that fails to load changes nothing and is remembered") {
  start(k_stack_a);
  const pid_t web = svc("web").pid();
  CHECK(edit("service 'web' {", false).status == app::ReloadStatus::failed);
  CHECK_FALSE(reloader->last().attempted);  // the first try after a change stays quiet
  const auto outcome = edit("service 'web' {", true);
  CHECK(outcome.status == app::ReloadStatus::failed);
  CHECK(outcome.message.find("stack.lua:1:") != std::string::npos);
  CHECK(reloader->last().attempted);
  CHECK_FALSE(reloader->last().ok);
  CHECK(reloader->last().message == outcome.message);
  CHECK(reloader->last().wall_time == platform.wall_now());
  CHECK(svc("web").pid() == web);
  CHECK(supervisor.services().size() == 2);
  for (const char* broken : {"service 'web' { cmd = 'x', cmdd = 1 }", "error('boom')",
                             "while true do end",
                             "service 'a' { cmd = 'x', depends_on = 'b' }\n"
                             "service 'b' { cmd = 'x', depends_on = 'a' }"}) {
    CAPTURE(broken);
    CHECK(edit(broken).status == app::ReloadStatus::failed);
    CHECK(svc("web").pid() == web);
  }
  CHECK(edit(k_stack_b).status == app::ReloadStatus::applied);
  CHECK(reloader->last().ok);
}

TEST_CASE_FIXTURE(Fixture, "a thousand reloads leave the Lua states, references and bytes where they were") {
  start(k_stack_a);
  CHECK(edit(k_stack_b).status == app::ReloadStatus::applied);
  CHECK(edit(k_stack_a).status == app::ReloadStatus::applied);
  settle();
  REQUIRE(lua::LuaState::live_states() == 1);
  const int states = lua::LuaState::live_states();
  const int refs = lua::LuaState::live_refs_in_all_states();
  const size_t bytes = lua::LuaState::memory_in_all_states();
  for (int i = 0; i < 1000; ++i) {
    const auto outcome = edit(i % 2 == 0 ? k_stack_b : k_stack_a);
    REQUIRE(outcome.status == app::ReloadStatus::applied);
    settle();
  }
  CHECK(supervisor.services().size() == 2);
  CHECK(lua::LuaState::live_states() == states);
  CHECK(lua::LuaState::live_refs_in_all_states() == refs);
  // The same stack in a fresh state: the same bytes, give or take what the
  // collector has not freed yet.
  const size_t now = lua::LuaState::memory_in_all_states();
  CHECK(now < bytes + bytes / 4);
  CHECK(now > bytes - bytes / 4);
}

TEST_CASE_FIXTURE(Fixture, "a reload while the stack stops is ignored") {
  start(k_stack_a);
  supervisor.shutdown([](bool) {});
  const auto outcome = reloader->reload("SIGHUP");
  CHECK(outcome.status == app::ReloadStatus::ignored);
  CHECK(outcome.message == "reload ignored: the stack is stopping");
  CHECK_FALSE(reloader->last().attempted);
}
