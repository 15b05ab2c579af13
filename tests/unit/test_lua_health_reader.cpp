// The stack loader reads health, ready, watchdog, start_timeout and
// on_unhealthy's fingerprint into ServiceSpec.
#include "lua/stack_loader.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

using luvsup::core::ProbeSpec;
using luvsup::test::TempDir;

namespace {
luvsup::lua::StackDefinition load(TempDir& dir, const std::string& body) {
  auto result = luvsup::lua::load_stack(
      dir.write("stack.lua", "local health = require 'luvsup.health'\n" + body));
  if (auto* err = std::get_if<luvsup::lua::LoadError>(&result)) {
    FAIL("unexpected load error: " << err->message);
  }
  return std::move(std::get<luvsup::lua::StackDefinition>(result));
}
} // namespace

TEST_CASE("a health check loads with the documented defaults") {
  TempDir dir;
  auto def = load(
      dir, "service 'db' { cmd = 'x', health = health.tcp(5432) }\nservice 'web' { cmd = 'x' }\n");
  const auto& db = def.services[0];
  REQUIRE(db.health);
  CHECK(db.health->interval == 10);
  CHECK(db.health->start_interval == 1);
  CHECK(db.health->start_period == 0);
  CHECK(db.health->fallback_grace == 60);
  CHECK(db.health->retries == 3);
  CHECK(db.health->success_threshold == 1);
  CHECK(db.health->probe.kind == ProbeSpec::Kind::tcp);
  CHECK(db.health->probe.host == "127.0.0.1");
  CHECK(db.health->probe.port == 5432);
  CHECK(db.health->probe.timeout == 1);
  CHECK(db.health->probe.leaf == 1);
  CHECK_FALSE(db.health->fallback);
  CHECK(db.health->policy != nullptr);
  CHECK(db.hooks == nullptr);
  CHECK(db.start_timeout == 60);
  CHECK(db.ready == luvsup::core::ReadySpec{});
  CHECK_FALSE(def.services[1].health);
}

TEST_CASE("a probe tree loads with its leaves numbered, timeouts inherited and http settings") {
  TempDir dir;
  auto def = load(
      dir,
      "service 'api' { cmd = 'x',\n"
      "  health = health.all { timeout = 3, interval = '2s', retries = 5, success_threshold = 2,\n"
      "    health.http { url = 'https://127.0.0.1/h', method = 'HEAD', headers = { Host = 'a' },\n"
      "                  tls_verify = false, timeout = 0.5 },\n"
      "    health.exec { 'check', '--quick' },\n"
      "    function() return true end,\n"
      "    fallback = health.tcp { host = '::1', port = 80 } },\n"
      "  on_unhealthy = function() return 'wait' end }\n");
  const auto& h = *def.services[0].health;
  CHECK(h.interval == 2);
  CHECK(h.retries == 5);
  CHECK(h.success_threshold == 2);
  REQUIRE(h.probe.kind == ProbeSpec::Kind::all);
  REQUIRE(h.probe.children.size() == 3);
  const auto& http = h.probe.children[0];
  CHECK(http.kind == ProbeSpec::Kind::http);
  CHECK(http.leaf == 1);
  CHECK(http.timeout == 0.5);
  CHECK(http.http.url == "https://127.0.0.1/h");
  CHECK(http.http.method == "HEAD");
  CHECK(http.http.timeout == 0.5);
  CHECK_FALSE(http.http.tls_verify);
  CHECK(http.http.headers == std::vector<std::pair<std::string, std::string>>{{"Host", "a"}});
  const auto& exec = h.probe.children[1];
  CHECK(exec.kind == ProbeSpec::Kind::exec);
  CHECK(exec.leaf == 2);
  CHECK(exec.timeout == 3);
  CHECK(exec.argv == std::vector<std::string>{"check", "--quick"});
  CHECK(h.probe.children[2].kind == ProbeSpec::Kind::lua);
  CHECK(h.probe.children[2].leaf == 0);
  CHECK(luvsup::core::io_leaves(h.probe).size() == 2);
  REQUIRE(h.fallback);
  CHECK(h.fallback->host == "::1");
  CHECK(h.fallback->leaf == 1);
  CHECK(def.services[0].on_unhealthy_fingerprint != 0);
}

TEST_CASE("ready, watchdog and start_timeout load") {
  TempDir dir;
  auto def = load(
      dir, "service 'a' { cmd = 'x', ready = { log = 'listening on %d+' }, start_timeout = '2m' }\n"
           "service 'b' { cmd = 'x', ready = { notify = true }, watchdog = '30s' }\n"
           "service 'c' { cmd = 'x', ready = { fd = 5 } }\n");
  CHECK(def.services[0].ready.log_pattern == "listening on %d+");
  CHECK(def.services[0].start_timeout == 120);
  CHECK(def.services[1].ready.notify);
  CHECK(def.services[1].watchdog == 30);
  CHECK(def.services[2].ready.fd == 5);
}

TEST_CASE("health references are released with the specs") {
  TempDir dir;
  auto def = load(
      dir, "service 'a' { cmd = 'x', health = health.tcp(1), on_unhealthy = function() end }\n");
  CHECK(def.lua->live_refs() == 5); // decide, policy, judge, health table, on_unhealthy in the hooks
  def.services.clear();
  CHECK(def.lua->live_refs() == 0);
}

TEST_CASE("a probe describes itself for the log") {
  luvsup::core::ProbeSpec tcp;
  tcp.port = 5432;
  CHECK(luvsup::core::describe(tcp) == "tcp 127.0.0.1:5432");
  luvsup::core::ProbeSpec exec;
  exec.kind = ProbeSpec::Kind::exec;
  exec.argv = {"pg_isready", "-q"};
  CHECK(luvsup::core::describe(exec) == "exec pg_isready -q");
  exec.argv = {"/bin/sh", "-c", "test -e ready"};
  CHECK(luvsup::core::describe(exec) == "exec test -e ready");
  luvsup::core::ProbeSpec all;
  all.kind = ProbeSpec::Kind::all;
  all.children = {tcp, exec};
  CHECK(luvsup::core::describe(all) == "all of 2");
}
