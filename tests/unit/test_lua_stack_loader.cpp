#include "lua/lua_state.hpp"
#include "lua/stack_loader.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <csignal>

using luvsup::lua::load_stack;
using luvsup::lua::LoadError;
using luvsup::lua::StackDefinition;
using luvsup::test::load_error;
using luvsup::test::TempDir;

namespace {

StackDefinition load_ok(const std::string& path) {
  auto result = load_stack(path);
  if (auto* err = std::get_if<LoadError>(&result)) {
    FAIL("unexpected load error: " << err->message);
  }
  return std::move(std::get<StackDefinition>(result));
}

std::string env_of(const luvsup::core::ServiceSpec& spec, const std::string& key) {
  for (const auto& [k, v] : spec.env) {
    if (k == key) {
      return v;
    }
  }
  return "<unset>";
}

}  // namespace

TEST_CASE("a full stack file loads into normalised service specs") {
  const std::string dir = luvsup::test::fixtures_dir();
  StackDefinition def = load_ok(dir + "/full_stack.lua");
  CHECK(def.name == "aurora");
  CHECK(def.file == dir + "/full_stack.lua");
  CHECK(def.dir == dir);
  CHECK(def.log_dir == dir + "/logs");
  CHECK(def.state_dir == dir + "/.luvsup");
  REQUIRE(def.services.size() == 3);
  CHECK(def.services[0].name == "cache");
  CHECK(def.services[1].name == "backend");
  CHECK(def.services[2].name == "migrate");
  CHECK(def.lua != nullptr);

  const auto& cache = def.services[0];
  CHECK(cache.argv == std::vector<std::string>{"/bin/sh", "-c", "redis-server --port 6379"});
  CHECK(cache.cwd == dir);
  CHECK(cache.stop.timeout == 5.0);  // from stack defaults
  CHECK(cache.stop.signal == SIGTERM);
  CHECK(cache.log.file == dir + "/logs/cache.log");
  CHECK(cache.source_line == 6);
  CHECK(cache.restart != nullptr);

  const auto& backend = def.services[1];
  CHECK(backend.argv == std::vector<std::string>{"python3", "app.py", "--port", "5001"});
  CHECK(backend.cwd == dir + "/backend");
  CHECK(backend.umask == mode_t{022});
  CHECK(backend.success_codes == std::vector<int>{0, 3});
  REQUIRE(backend.depends_on.size() == 1);
  CHECK(backend.depends_on[0].name == "cache");
  CHECK(backend.depends_on[0].condition == "started");
  CHECK(backend.stop.signal == SIGINT);
  CHECK(backend.stop.timeout == 1.5);
  CHECK(backend.log.file == dir + "/logs/backend.log");
  CHECK(backend.log.max_size == 1024 * 1024);
  CHECK(backend.log.keep == 3);
  CHECK(backend.log.separate_stderr);
  CHECK(backend.log.stderr_file.empty());
  REQUIRE(backend.limits.size() == 3);
  CHECK(backend.limits[0] == luvsup::core::ResourceLimit{RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY});
  CHECK(backend.limits[1] == luvsup::core::ResourceLimit{RLIMIT_NOFILE, 4096, 4096});
  CHECK(backend.limits[2] == luvsup::core::ResourceLimit{RLIMIT_NPROC, 100, 200});
  CHECK(env_of(backend, "PYTHONUNBUFFERED") == "1");
  CHECK(env_of(backend, "PORT") == "5001");  // env overrides env_file
  CHECK(env_of(backend, "DB_URL") == "postgres://x\n\"q\"");
  CHECK(env_of(backend, "SECRET") == "a b $c");
  CHECK(env_of(backend, "PLAIN") == "hello world");
  CHECK(backend.env.front().first == "DB_URL");  // env_file first, in file order

  const auto& migrate = def.services[2];
  CHECK(migrate.oneshot);
  CHECK_FALSE(migrate.autostart);
  CHECK(migrate.log.file == dir + "/var/migrate.log");
  CHECK(migrate.stdin_path == "/dev/null");

  REQUIRE(def.loaded_files.size() == 3);
  CHECK(def.loaded_files[0] == dir + "/full_stack.lua");
  CHECK(std::find(def.loaded_files.begin(), def.loaded_files.end(), dir + "/helper_module.lua") !=
        def.loaded_files.end());
  CHECK(std::find(def.loaded_files.begin(), def.loaded_files.end(), dir + "/backend.env") !=
        def.loaded_files.end());
}

TEST_CASE("a missing stack file is reported with its path") {
  auto result = load_stack("/nonexistent/stack.lua");
  REQUIRE(std::holds_alternative<LoadError>(result));
  CHECK(std::get<LoadError>(result).message == "/nonexistent/stack.lua: cannot open stack file: No such file or directory");
}

TEST_CASE("the stack name defaults to the file name and the services keep their defaults") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("web.lua", "service 'web' { cmd = { 'true' } }\n"));
  CHECK(def.name == "web");
  REQUIRE(def.services.size() == 1);
  const auto& web = def.services[0];
  CHECK(web.cwd == dir.path());
  CHECK(web.stop.signal == SIGTERM);
  CHECK(web.stop.timeout == 10.0);
  CHECK(web.log.file == dir.path() + "/logs/web.log");
  CHECK(web.log.max_size == 10u << 20);
  CHECK(web.log.keep == 5);
  CHECK(web.log.max_line == 64 * 1024);
  CHECK(web.log.stall_timeout == 30.0);
  CHECK(web.success_codes == std::vector<int>{0});
  CHECK(web.autostart);
  CHECK_FALSE(web.oneshot);
  CHECK_FALSE(web.umask.has_value());
  CHECK(web.env.empty());
}

TEST_CASE("a service does not take the keys of the service checked before it") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("stack.lua", R"(
service 'a' { cmd = { 'x' }, user = 'u', group = 'g', umask = '022', stdin = 'in', oneshot = true,
  env = { A = '1' }, success_codes = { 2 }, depends_on = { 'b' }, stop = { timeout = 1 } }
service 'b' { cmd = { 'y' } }
)"));
  REQUIRE(def.services.size() == 2);
  const auto& b = def.services[1];
  CHECK(b.argv == std::vector<std::string>{"y"});
  CHECK(b.user.empty());
  CHECK(b.group.empty());
  CHECK_FALSE(b.umask.has_value());
  CHECK(b.stdin_path == "/dev/null");
  CHECK_FALSE(b.oneshot);
  CHECK(b.env.empty());
  CHECK(b.success_codes == std::vector<int>{0});
  CHECK(b.depends_on.empty());
  CHECK(b.stop.timeout == 10.0);
  CHECK(def.services[0].umask == 022);
  CHECK(def.services[0].stdin_path == dir.path() + "/in");
}

TEST_CASE("a string cmd runs through /bin/sh -c") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("stack.lua", "service 'a' { cmd = 'echo hi && sleep 1' }\n"));
  CHECK(def.services[0].argv == std::vector<std::string>{"/bin/sh", "-c", "echo hi && sleep 1"});
}

TEST_CASE("relative paths resolve against the stack file's directory") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("sub/stack.lua", R"(
stack { logs = "../var/log", state_dir = "state" }
service "a" { cmd = "x", cwd = "./app/../srv", stdin = "in.txt",
              log = { file = "out/a.log", stderr = "out/a.err" } }
)"));
  const std::string sub = dir.path() + "/sub";
  CHECK(def.log_dir == dir.path() + "/var/log");
  CHECK(def.state_dir == sub + "/state");
  const auto& a = def.services[0];
  CHECK(a.cwd == sub + "/srv");
  CHECK(a.stdin_path == sub + "/in.txt");
  CHECK(a.log.file == sub + "/out/a.log");
  CHECK(a.log.separate_stderr);
  CHECK(a.log.stderr_file == sub + "/out/a.err");
}

TEST_CASE("stack defaults apply to every service that does not set the key") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("stack.lua", R"(
service "a" { cmd = "x" }
service "b" { cmd = "x", user = "bob", stop = { signal = "INT" }, env = { B = "b" } }
stack { defaults = { user = "www", stop = { timeout = 3 }, env = { A = "a" }, umask = "027" } }
)"));
  const auto& a = def.services[0];
  const auto& b = def.services[1];
  CHECK(a.user == "www");
  CHECK(b.user == "bob");
  CHECK(a.stop.timeout == 3.0);
  CHECK(b.stop.timeout == 3.0);  // stop tables merge key by key
  CHECK(b.stop.signal == SIGINT);
  CHECK(env_of(b, "A") == "a");
  CHECK(env_of(b, "B") == "b");
  CHECK(a.umask == mode_t{027});
}

TEST_CASE("dependencies accept a list, a map of conditions, or a single name") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("stack.lua", R"(
service "db" { cmd = "x" }
service "cache" { cmd = "x" }
service "init" { cmd = "x", oneshot = true }
service "api" { cmd = "x", depends_on = { "db", cache = "healthy", init = "completed" } }
service "web" { cmd = "x", depends_on = "api" }
)"));
  const auto& api = def.services[3];
  REQUIRE(api.depends_on.size() == 3);
  CHECK(api.depends_on[0] == luvsup::core::Dependency{"db", "started"});
  CHECK(api.depends_on[1] == luvsup::core::Dependency{"cache", "healthy"});
  CHECK(api.depends_on[2] == luvsup::core::Dependency{"init", "completed"});
  CHECK(def.services[4].depends_on == std::vector<luvsup::core::Dependency>{{"api", "started"}});
}

TEST_CASE("sizes, durations and signal numbers are normalised") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("stack.lua", R"(
service "a" { cmd = "x", stop = { signal = 9, timeout = "500ms" },
              log = { max_size = "1GiB", max_line = "4KB", stall_timeout = "1m30s", keep = 0 } }
service "b" { cmd = "x", stop = { signal = "hup", timeout = 0.25 }, log = { max_size = 0 } }
)"));
  const auto& a = def.services[0];
  CHECK(a.stop.signal == SIGKILL);
  CHECK(a.stop.timeout == 0.5);
  CHECK(a.log.max_size == 1ull << 30);
  CHECK(a.log.max_line == 4096);
  CHECK(a.log.stall_timeout == 90.0);
  CHECK(a.log.keep == 0);
  CHECK(def.services[1].stop.signal == SIGHUP);
  CHECK(def.services[1].stop.timeout == 0.25);
  CHECK(def.services[1].log.max_size == 0);
}

TEST_CASE("an env file with a syntax error is reported with its line") {
  TempDir dir;
  dir.write("bad.env", "A=1\nthis is not an assignment\n");
  auto result = load_stack(dir.write("stack.lua", "service 'a' {\n  cmd = 'x',\n  env_file = 'bad.env',\n}\n"));
  REQUIRE(std::holds_alternative<LoadError>(result));
  const std::string msg = std::get<LoadError>(result).message;
  CHECK(msg.find("stack.lua:3: service 'a': ") != std::string::npos);
  CHECK(msg.find("bad.env: line 2: expected KEY=VALUE") != std::string::npos);
}

TEST_CASE("a stack can require its own modules and luvsup's library") {
  TempDir dir;
  dir.write("lib/ports.lua", "return { web = 8080 }\n");
  StackDefinition def = load_ok(dir.write("stack.lua", R"(
local ports = require "lib.ports"
local util = require "luvsup.util"
service "web" { cmd = { "serve", tostring(ports.web) }, stop = { timeout = util.duration("2s") } }
)"));
  CHECK(def.services[0].argv[1] == "8080");
  CHECK(def.loaded_files.size() == 2);
  CHECK(def.loaded_files[1] == dir.path() + "/lib/ports.lua");
}

TEST_CASE("depends_on restart = true reaches the spec, and the same policy hashes alike") {
  luvsup::test::TempDir dir;
  const std::string stack = "service 'db' { cmd = 'x', restart = 'on-failure' }\n"
                            "service 'api' { cmd = 'x', restart = 'on-failure',\n"
                            "  depends_on = { db = { condition = 'started', restart = true } } }\n"
                            "service 'web' { cmd = 'x', depends_on = { db = 'started' } }\n";
  auto first = luvsup::lua::load_stack(dir.write("stack.lua", stack));
  auto second = luvsup::lua::load_stack(dir.write("stack.lua", stack));
  REQUIRE(std::holds_alternative<luvsup::lua::StackDefinition>(first));
  REQUIRE(std::holds_alternative<luvsup::lua::StackDefinition>(second));
  const auto& a = std::get<luvsup::lua::StackDefinition>(first).services;
  const auto& b = std::get<luvsup::lua::StackDefinition>(second).services;
  REQUIRE(a[1].depends_on.size() == 1);
  CHECK(a[1].depends_on[0].restart);
  CHECK(a[1].depends_on[0].condition == "started");
  CHECK_FALSE(a[2].depends_on[0].restart);
  CHECK(a[0].restart_fingerprint != 0);
  CHECK(a[0].restart_fingerprint == b[0].restart_fingerprint);  // two states, one policy
  CHECK(a[0].restart_fingerprint == a[1].restart_fingerprint);
  CHECK(a[0].restart_fingerprint != a[2].restart_fingerprint);  // "always"
}

TEST_CASE("the services of a load that name one restart policy, or take the default, share its table") {
  luvsup::test::TempDir dir;
  const std::string path = dir.write(
      "stack.lua",
      "service 'a' { cmd = 'x' }\nservice 'b' { cmd = 'x', restart = 'always' }\n"
      "service 'c' { cmd = 'x', restart = 'on-failure' }\n"
      "service 'd' { cmd = 'x', restart = 'on-failure' }\n"
      "service 'e' { cmd = 'x', oneshot = true }\nservice 'f' { cmd = 'x', oneshot = true }\n"
      "service 'g' { cmd = 'x', restart = 'never' }\n");
  luvsup::lua::LuaState state;
  const std::string shared = luvsup::test::eval(
      state, "local s = assert(require('luvsup.dsl').load { file = 'stack.lua', path = '" + path +
                 "', dir = '" + dir.path() + "' }).services\n"
                 "local backoff = require 'luvsup.backoff'\n"
                 "return table.concat({ tostring(s[1].restart == s[2].restart),\n"
                 "  tostring(s[3].restart == s[4].restart), tostring(s[5].restart == s[6].restart),\n"
                 "  tostring(s[1].restart ~= s[3].restart and s[1].restart ~= s[5].restart),\n"
                 "  s[3].restart.on_failure and s[7].restart.kind or '?',\n"
                 "  tostring(backoff.named('always') ~= backoff.named('always')) }, ' ')");
  CHECK(shared == "true true true true never true");
}

TEST_CASE("absent hooks hash alike without Lua, and a present hook hashes apart") {
  luvsup::test::TempDir dir;
  const std::string stack = "service 'a' { cmd = 'x' }\n"
                            "service 'b' { cmd = 'x' }\n"
                            "service 'c' { cmd = 'x', on_exit = function() end }\n";
  auto first = luvsup::lua::load_stack(dir.write("stack.lua", stack));
  REQUIRE(std::holds_alternative<luvsup::lua::StackDefinition>(first));
  const auto& s = std::get<luvsup::lua::StackDefinition>(first).services;
  const auto on_exit = static_cast<size_t>(luvsup::core::HookKind::on_exit);
  CHECK(s[0].hook_fingerprints == s[1].hook_fingerprints);
  CHECK(s[0].hook_fingerprints[on_exit] != 0);
  CHECK(s[0].hook_fingerprints[on_exit] != s[2].hook_fingerprints[on_exit]);
  CHECK(s[0].health_fingerprint == s[2].health_fingerprint);
}

TEST_CASE("the control socket key resolves against the stack file's directory") {
  TempDir dir;
  StackDefinition def = load_ok(dir.write("sub/stack.lua", R"(
stack { control = "run/ctl.sock" }
service "a" { cmd = "x" }
)"));
  CHECK(def.control_socket == dir.path() + "/sub/run/ctl.sock");
  StackDefinition plain = load_ok(dir.write("plain.lua", "service 'a' { cmd = 'x' }\n"));
  CHECK(plain.control_socket.empty());
}

TEST_CASE("a control key that is not a string names the key") {
  const std::string error = load_error("stack { control = 5 }\nservice 'a' { cmd = 'x' }\n");
  CHECK(error.find(":1: stack: key 'control' expects a non-empty string, got number") !=
        std::string::npos);
}
