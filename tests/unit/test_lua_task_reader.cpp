// lua::read_tasks / adopt_tasks through the stack loader: tasks, scheduled
// services and watches come out with their schedules asking Lua for the next run.
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <variant>

using luvsup::runbook::TaskSpec;

namespace {

luvsup::lua::StackDefinition load(const luvsup::test::TempDir& dir, const std::string& stack) {
  auto result = luvsup::lua::load_stack(dir.write("stack.lua", stack));
  if (auto* err = std::get_if<luvsup::lua::LoadError>(&result)) {
    FAIL(err->message);
  }
  return std::move(std::get<luvsup::lua::StackDefinition>(result));
}

}  // namespace

TEST_CASE("tasks and scheduled services are read with their schedules") {
  luvsup::test::TempDir dir;
  auto def = load(dir, "task 'tick' { every = '5s', timeout = 2, run = function() return 1 end }\n"
                       "service 'job' { cmd = 'true', oneshot = true, cron = '*/10 * * * *' }\n"
                       "service 'web' { cmd = 'sleep 100', watch = { 'a.conf', '/etc/b.conf' } }\n");
  REQUIRE(def.tasks.size() == 2);
  const TaskSpec& tick = def.tasks[0];
  CHECK(tick.kind == TaskSpec::Kind::function);
  CHECK(tick.name == "tick");
  CHECK(tick.label() == "task tick");
  CHECK(tick.schedule_text == "every 5s");
  CHECK(tick.timeout == 2);
  CHECK(tick.source_line == 1);
  REQUIRE(tick.function != nullptr);
  std::string error;
  CHECK(tick.schedule->next_after(1000, error).value_or(-1) == 1005);

  const TaskSpec& job = def.tasks[1];
  CHECK(job.kind == TaskSpec::Kind::service);
  CHECK(job.label() == "job");
  CHECK(job.schedule_text == "cron '*/10 * * * *'");
  CHECK(job.function == nullptr);
  CHECK(job.schedule->next_after(1'700'000'000, error).value_or(-1) == 1'700'000'400);
  // A scheduled service does not start with the stack unless asked to.
  REQUIRE(def.services.size() == 2);
  CHECK_FALSE(def.services[0].autostart);
  CHECK(def.services[1].autostart);

  REQUIRE(def.watches.size() == 1);
  CHECK(def.watches[0].service == "web");
  CHECK(def.watches[0].paths == std::vector<std::string>{dir.path() + "/a.conf", "/etc/b.conf"});
}

TEST_CASE("a scheduled service keeps autostart when it is set") {
  luvsup::test::TempDir dir;
  auto def = load(dir, "service 'job' { cmd = 'true', oneshot = true, every = 60, autostart = true }\n");
  REQUIRE(def.services.size() == 1);
  CHECK(def.services[0].autostart);
  CHECK(def.tasks.at(0).schedule_text == "every 60s");
}

TEST_CASE("task references are released with the definition") {
  const int before = luvsup::lua::LuaState::live_refs_in_all_states();
  {
    luvsup::test::TempDir dir;
    auto def = load(dir, "task 'a' { every = 5, run = function() end }\ntask 'b' { cron = '@daily', run = print }\n");
    CHECK(def.tasks.size() == 2);
    CHECK(luvsup::lua::LuaState::live_refs_in_all_states() > before);
  }
  CHECK(luvsup::lua::LuaState::live_refs_in_all_states() == before);
}

TEST_CASE("a stack that fails to load leaks no task reference") {
  const int before = luvsup::lua::LuaState::live_refs_in_all_states();
  CHECK(luvsup::test::load_error("task 'a' { every = 5, run = function() end }\nservice 'x' { }\n") ==
        "stack.lua:2: service 'x': missing required key 'cmd'");
  CHECK(luvsup::lua::LuaState::live_refs_in_all_states() == before);
}
