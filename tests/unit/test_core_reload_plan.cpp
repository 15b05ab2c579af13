#include "core/reload_plan.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

using namespace luvsup;
using core::ServiceSpec;

namespace {

ServiceSpec spec(std::string name, std::vector<core::Dependency> deps = {}) {
  ServiceSpec s;
  s.name = std::move(name);
  s.argv = {"/bin/sleep", "100"};
  s.cwd = "/tmp";
  s.depends_on = std::move(deps);
  return s;
}

core::ReloadPlan plan(const std::vector<ServiceSpec>& running, const std::vector<ServiceSpec>& next) {
  std::vector<const ServiceSpec*> a, b;
  for (const auto& s : running) a.push_back(&s);
  for (const auto& s : next) b.push_back(&s);
  return core::plan_reload(a, b);
}

std::vector<std::string> keys(const std::vector<std::string_view>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("identical definitions give an empty plan") {
  const std::vector<ServiceSpec> stack = {spec("db"), spec("web", {{"db", "started", false}})};
  CHECK(plan(stack, stack).empty());
}

TEST_CASE("a changed command restarts the service and names the key") {
  std::vector<ServiceSpec> next = {spec("db"), spec("web")};
  next[1].argv = {"/bin/sleep", "200"};
  const auto p = plan({spec("db"), spec("web")}, next);
  REQUIRE(p.changed.size() == 1);
  CHECK(p.changed[0].name == "web");
  CHECK(keys(p.changed[0].restart_keys) == std::vector<std::string>{"cmd"});
  CHECK(p.changed[0].live_keys.empty());
  CHECK(p.changed[0].restarts());
  CHECK(core::describe_cause(p.changed[0]) == "cmd changed");
}

TEST_CASE("policy-only changes apply live") {
  std::vector<ServiceSpec> next = {spec("cache")};
  next[0].restart_fingerprint = 42;
  next[0].stop.signal = 2;
  next[0].autostart = false;
  next[0].success_codes = {0, 3};
  next[0].depends_on = {};
  const auto p = plan({spec("cache")}, next);
  REQUIRE(p.changed.size() == 1);
  CHECK(p.changed[0].restart_keys.empty());
  CHECK(keys(p.changed[0].live_keys) ==
        std::vector<std::string>{"success_codes", "restart", "stop", "autostart"});
  CHECK_FALSE(p.changed[0].restarts());
}

TEST_CASE("each process-defining key restarts the service") {
  const std::vector<std::pair<std::string, void (*)(ServiceSpec&)>> edits = {
      {"cwd", [](ServiceSpec& s) { s.cwd = "/var"; }},
      {"env", [](ServiceSpec& s) { s.env = {{"A", "1"}}; }},
      {"user", [](ServiceSpec& s) { s.user = "nobody"; }},
      {"group", [](ServiceSpec& s) { s.group = "nogroup"; }},
      {"umask", [](ServiceSpec& s) { s.umask = 077; }},
      {"limits", [](ServiceSpec& s) { s.limits = {{RLIMIT_NOFILE, 10, 10}}; }},
      {"stdin", [](ServiceSpec& s) { s.stdin_path = "/etc/hostname"; }},
      {"log", [](ServiceSpec& s) { s.log.file = "/tmp/other.log"; }},
      {"oneshot", [](ServiceSpec& s) { s.oneshot = true; }},
  };
  for (const auto& [key, edit] : edits) {
    CAPTURE(key);
    std::vector<ServiceSpec> next = {spec("svc")};
    edit(next[0]);
    const auto p = plan({spec("svc")}, next);
    REQUIRE(p.changed.size() == 1);
    CHECK(keys(p.changed[0].restart_keys) == std::vector<std::string>{key});
  }
}

TEST_CASE("added and removed services are listed in declaration order") {
  const auto p = plan({spec("a"), spec("old"), spec("b")}, {spec("new"), spec("a"), spec("b"), spec("z")});
  CHECK(p.added == std::vector<std::string>{"new", "z"});
  CHECK(p.removed == std::vector<std::string>{"old"});
  CHECK(p.changed.empty());
}

TEST_CASE("dependents restart with a restarted dependency only when they ask for it") {
  std::vector<ServiceSpec> running = {spec("db"), spec("api", {{"db", "started", true}}),
                                      spec("web", {{"api", "started", true}}),
                                      spec("batch", {{"db", "started", false}})};
  std::vector<ServiceSpec> next = running;
  next[0].argv = {"/bin/db", "--new"};
  const auto p = plan(running, next);
  REQUIRE(p.changed.size() == 3);
  CHECK(p.change_of("batch") == nullptr);
  REQUIRE(p.change_of("api") != nullptr);
  CHECK(p.change_of("api")->restarted_with == std::vector<std::string>{"db"});
  CHECK(p.change_of("api")->restarts());
  CHECK(core::describe_cause(*p.change_of("api")) == "db restarted");
  REQUIRE(p.change_of("web") != nullptr);  // through api
  CHECK(p.change_of("web")->restarted_with == std::vector<std::string>{"api"});
}

TEST_CASE("a live change of a dependency does not restart its dependents") {
  std::vector<ServiceSpec> running = {spec("db"), spec("api", {{"db", "started", true}})};
  std::vector<ServiceSpec> next = running;
  next[0].restart_fingerprint = 7;
  const auto p = plan(running, next);
  REQUIRE(p.changed.size() == 1);
  CHECK(p.changed[0].name == "db");
}

TEST_CASE("turning on restart = true is itself a live change to depends_on") {
  std::vector<ServiceSpec> running = {spec("db"), spec("api", {{"db", "started", false}})};
  std::vector<ServiceSpec> next = running;
  next[1].depends_on[0].restart = true;
  const auto p = plan(running, next);
  REQUIRE(p.changed.size() == 1);
  CHECK(keys(p.changed[0].live_keys) == std::vector<std::string>{"depends_on"});
}

TEST_CASE("the key table has one row for every service key of the DSL") {
  lua::LuaState state;
  const std::string list = test::eval(
      state, "return table.concat(require('luvsup.spec').schema.service, ' ')");
  std::set<std::string> dsl;
  for (size_t at = 0; at < list.size();) {
    const size_t end = std::min(list.find(' ', at), list.size());
    dsl.insert(list.substr(at, end - at));
    at = end + 1;
  }
  // The loader merges the contents of every env_file into env: the env row
  // covers both.
  dsl.erase("env_file");
  // One row, "hooks", covers every hook key (before_start, on_start, ...):
  // the loader folds them into one fingerprint. on_unhealthy has its own.
  for (const char* hook : {"before_start", "on_start", "on_ready", "on_exit", "on_crash_loop",
                           "on_fatal", "after_stop"}) {
    dsl.erase(hook);
  }
  // A key may be split into rows for its sub-keys ("ready.notify", "ready.log").
  std::set<std::string> rows, table;
  for (const auto& rule : core::key_rules()) {
    CHECK_MESSAGE(rows.insert(std::string(rule.key)).second, "duplicate row ", rule.key);
    table.insert(std::string(rule.key.substr(0, rule.key.find('.'))));
  }
  CHECK(table.erase("hooks") == 1);
  CHECK(table == dsl);
}
