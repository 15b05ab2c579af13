// The runbook helpers as Lua sees them: runs started through a real
// runbook::Scheduler on a real loop, with real commands, a real HTTP server
// (tests/helpers/http_test_server.py) and the Reaper as in luvsup.
#include "core/platform.hpp"
#include "lua/lua_state.hpp"
#include "process/reaper.hpp"
#include "runbook/command_runner.hpp"
#include "runbook/environment.hpp"
#include "runbook/helpers_api.hpp"
#include "runbook/scheduler.hpp"
#include "runbook/service_control.hpp"
#include "runbook/state_store.hpp"
#include "test_http_support.hpp"
#include "test_process_support.hpp"
#include "uv/timer.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <optional>

using namespace luvsup;
using luvsup::http::test::TestServer;
using luvsup::process::test::alive;
using luvsup::process::test::read_pid_file;
using luvsup::process::test::TempDir;

namespace {

// Says that this test process belongs to the service "web".
class FakeServices final : public runbook::ServiceControl {
public:
  std::optional<runbook::ServiceSnapshot> find(std::string_view) const override { return {}; }
  std::string restart(std::string_view) override { return "no"; }
  std::string stop(std::string_view) override { return "no"; }
  std::string start(std::string_view) override { return "no"; }
  std::string signal(std::string_view, int) override { return "no"; }
  std::unique_ptr<runbook::ConditionWatch> watch(std::string_view, std::string,
                                                 std::function<void(std::string)>) override {
    return nullptr;
  }
  std::optional<std::string> service_of_pid(pid_t pid) const override {
    return pid == getpid() ? std::optional<std::string>("web") : std::nullopt;
  }
};

// The clock and timers the scheduler needs, on the real loop; the rest of
// the platform is never used by these runs.
class LoopPlatform final : public core::Platform {
public:
  explicit LoopPlatform(uv_loop_t* loop) : m_loop(loop) {}
  double now() const override { return static_cast<double>(uv_hrtime()) / 1e9; }
  double wall_now() const override { return now(); }
  std::unique_ptr<core::Timer> make_timer() override { return std::make_unique<LoopTimer>(m_loop); }
  core::SpawnOutcome spawn(const core::ServiceSpec&) override { return {-1, "not in this test"}; }
  void signal_service(const core::ServiceSpec&, pid_t, pid_t, int) override {}
  void send_signal(const core::ServiceSpec&, pid_t, pid_t, int) override {}
  std::optional<std::string> service_of_process(pid_t) const override { return std::nullopt; }
  bool service_alive(const core::ServiceSpec&, pid_t, pid_t) override { return false; }
  void service_gone(const core::ServiceSpec&) override {}
  void service_removed(const core::ServiceSpec&) override {}
  std::unique_ptr<health::PendingProbe>
  start_probe(const core::ServiceSpec&, const core::ProbeSpec&, health::ProbeDone) override {
    return nullptr;
  }

private:
  class LoopTimer final : public core::Timer {
  public:
    explicit LoopTimer(uv_loop_t* loop) : m_timer(loop) {}
    void start(double delay, std::function<void()> fn) override {
      m_timer.start(delay, std::move(fn));
    }
    void stop() override { m_timer.stop(); }

  private:
    uv::Timer m_timer;
  };
  uv_loop_t* m_loop;
};

// What one run ended with: its first result as tostring() gives it, and its outcome.
struct Ended {
  bool done = false;
  runbook::RunOutcome outcome;
  std::string result;
};

// A Lua state with the helpers, its Scheduler and what the calls need.
struct Bench {
  explicit Bench(bool with_environment = true)
      : reaper(&loop.get_loop(),
               [this](pid_t pid, core::ExitStatus st) { runner.claim_exit(pid, st); }),
        runner(&loop.get_loop()), client(&loop.get_loop()), platform(&loop.get_loop()) {
    spdlog::set_level(spdlog::level::off);
    environment.loop = &loop.get_loop();
    environment.platform = &platform;
    if (with_environment) {
      environment.commands = &runner;
      environment.http = &client;
      environment.state = &store;
      environment.services = &services;
    }
    scheduler.emplace(state, environment);
    REQUIRE_FALSE(state.run([](lua_State* L) { runbook::open_helpers(L); }).has_value());
  }
  ~Bench() {
    runs.clear();
    scheduler.reset();
  }

  // Starts `code` (a chunk named "test") as a run; its end goes to `ended`.
  void start(const std::string& code, Ended& ended) {
    auto* result = &ended;
    runbook::RunInfo info;
    info.label = "test run";
    runs.push_back(scheduler->start(
        info,
        [code](lua_State* co) {
          if (luaL_loadbuffer(co, code.data(), code.size(), "=test") != LUA_OK) {
            lua_error(co);
          }
          return 0;
        },
        [result](lua_State* co, int n) {
          result->result = n > 0 ? luaL_tolstring(co, 1, nullptr) : "(nothing)";
        },
        [result](runbook::RunOutcome outcome) {
          result->outcome = std::move(outcome);
          result->done = true;
        }));
  }

  // Runs `code` to its end and returns its result, or "error: ..." when it failed.
  std::string run(const std::string& code) {
    Ended ended;
    start(code, ended);
    REQUIRE(run_until([&] { return ended.done; }));
    if (ended.outcome.status != runbook::RunOutcome::Status::returned) {
      return "error: " + ended.outcome.error;
    }
    return ended.result;
  }

  // Runs the loop until `done` holds, polling (a file a command writes is no
  // loop event); false at the deadline, a guard against a hung test.
  bool run_until(const std::function<bool()>& done, double seconds = 60.0) {
    return process::test::wait_until(
        [&] {
          uv_run(&loop.get_loop(), UV_RUN_NOWAIT);
          return done();
        },
        seconds);
  }

  struct Loop : http::test::TestLoop {
    uv_loop_t& get_loop() { return *get(); }
  };
  Loop loop;
  process::Reaper reaper;
  runbook::CommandRunner runner;
  http::HttpClient client;
  runbook::StateStore store;
  FakeServices services;
  LoopPlatform platform;
  runbook::Environment environment;
  lua::LuaState state;
  std::optional<runbook::Scheduler> scheduler;
  std::vector<std::unique_ptr<runbook::RunHandle>> runs;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("exec from a run returns the command's code, stdout and stderr") {
  Bench b;
  CHECK(b.run("local r = exec { 'sh', '-c', 'echo hi; echo oops >&2; exit 4' }\n"
              "return r.code .. ' ' .. r.stdout .. r.stderr .. tostring(r.signal)"
              " .. tostring(r.timed_out)") == "4 hi\noops\nnilfalse");
  CHECK(b.run("local r = exec('echo $X', { env = { X = 'from env' } }) return r.stdout") ==
        "from env\n");
  CHECK(b.run("local r = exec { 'cat', stdin = 'fed' } return r.stdout") == "fed");
}

TEST_CASE("exec of a command that cannot start returns nil and why") {
  Bench b;
  CHECK(
      b.run("local r, err = exec { 'luvsup-no-such-program' } return tostring(r) .. ', ' .. err") ==
      "nil, exec: cannot run 'luvsup-no-such-program': No such file or directory");
}

TEST_CASE("exec and http.get of two runs are in flight at once") {
  Bench b;
  TempDir dir;
  const std::string marker = dir / "marker";
  // The first run's command ends only once the second run, after its HTTP
  // request, has created the marker: run one after the other, they would not end.
  Ended first, second;
  b.start("local r = exec { 'sh', '-c', 'while [ ! -e " + marker +
              " ]; do sleep 0.02; done; echo seen', timeout = 60 }\n"
              "return r.stdout",
          first);
  b.start("local r = http.get('" + TestServer::get().url("/ok") +
              "')\n"
              "exec { 'touch', '" +
              marker +
              "' }\n"
              "return r.status .. ' ' .. r.body",
          second);
  REQUIRE(b.run_until([&] { return first.done && second.done; }));
  CHECK(second.result == "200 hello");
  CHECK(first.result == "seen\n");
}

TEST_CASE("an exec past its timeout returns timed_out and leaves nothing of its group") {
  Bench b;
  TempDir dir;
  const std::string pid_file = dir / "bg.pid";
  CHECK(b.run("local r = exec { 'sh', '-c', 'sleep 300 & echo $! > " + pid_file +
              "; sleep 300', timeout = 0.3 }\n"
              "return tostring(r.timed_out) .. ' ' .. r.signal .. ' ' .. tostring(r.code)") ==
        "true 9 nil");
  const pid_t bg = read_pid_file(pid_file);
  REQUIRE(bg > 0);
  CHECK(b.run_until([&] { return !alive(bg); }));
}

TEST_CASE("a cancelled run kills the command it waits for") {
  Bench b;
  TempDir dir;
  const std::string pid_file = dir / "cmd.pid";
  Ended ended;
  b.start("exec { 'sh', '-c', 'echo $$ > " + pid_file + "; exec sleep 300' }", ended);
  REQUIRE(b.run_until([&] { return read_pid_file(pid_file) > 0; }));
  const pid_t pid = read_pid_file(pid_file);
  b.runs.clear();
  CHECK(b.run_until([&] { return !alive(pid); }));
  CHECK_FALSE(ended.done);
}

TEST_CASE("exec raises on bad arguments, naming the key and the line") {
  Bench b;
  auto error = b.run("local x = 1\nexec { 'true', timout = 5 }");
  CHECK(contains(error, "test:2: exec: unknown key 'timout'; did you mean 'timeout'?"));
  CHECK(contains(b.run("exec { 'true', timeout = -1 }"),
                 "exec: timeout must be a positive number of seconds (got -1)"));
  CHECK(contains(b.run("exec { 'true', env = { X = {} } }"), "exec: env.X is a table"));
  CHECK(contains(b.run("exec { 'true', env = { ['A=B'] = 'x' } }"),
                 "exec: env key 'A=B' is not a variable name"));
  CHECK(contains(b.run("exec {}"), "exec: no command"));
  CHECK(contains(b.run("exec(42)"), "exec: give a command"));
  CHECK(contains(b.run("exec { 'echo', print }"), "exec: argument 2 is a function"));
}

TEST_CASE("http.get and http.post return status, body and headers, or nil and why") {
  Bench b;
  auto& server = TestServer::get();
  CHECK(b.run("local r = http.get('" + server.url("/redirect") +
              "') return r.status .. ' ' .. r.headers.location") == "302 /ok");
  const std::string echo = b.run("local r = http.post('" + server.url("/echo") +
                                 "', { n = 1 }, { headers = { ['X-A'] = 'b' } }) return r.body");
  CHECK(contains(echo, "method: POST\n"));
  CHECK(contains(echo, "header x-a: b\n"));
  CHECK(contains(echo, "header content-type: application/json\n"));
  CHECK(contains(echo, "body: {\"n\":1}"));
  CHECK(contains(b.run("local r = http.post('" + server.url("/echo") +
                       "', 'a=1', { content_type = 'text/plain' }) return r.body"),
                 "header content-type: text/plain\n"));
  http::test::RefusingPort refusing;
  CHECK(b.run("local r, err = http.get('" + refusing.url() +
              "') return tostring(r) .. ' ' .. err") == "nil http.get: connection refused");
  CHECK(b.run("local r, err = http.get('" + server.url("/hang") +
              "', { timeout = 0.3 }) return err") == "http.get: timed out after 0.3s");
  CHECK(contains(b.run("http.get('" + server.url("/ok") + "', { timeuot = 1 })"),
                 "http.get: unknown key 'timeuot'; did you mean 'timeout'?"));
  CHECK(contains(b.run("http.post('" + server.url("/ok") + "', 'x', { tls_verify = 'no' })"),
                 "http.post: tls_verify must be true or false"));
}

TEST_CASE("notify posts to the webhook and returns true, or nil and the status") {
  Bench b;
  auto& server = TestServer::get();
  CHECK(b.run("return notify { webhook = '" + server.url("/webhook/lua") +
              "', text = 'down', fields = { n = 2 } }") == "true");
  CHECK(b.run("local r = http.get('" + server.url("/received/lua") +
              "') local got = json.decode(r.body)\n"
              "return got.content_type .. ' ' .. got.body") ==
        R"(application/json {"content":"down\nn: 2","fields":{"n":2},"text":"down\nn: 2"})");
  CHECK(b.run("local ok, err = notify { webhook = '" + server.url("/status/403") +
              "', text = 'x' } return tostring(ok) .. ' ' .. err") ==
        "nil notify: webhook answered 403");
  CHECK(
      contains(b.run("notify { text = 'x' }"), "notify: webhook (the URL to post to) is required"));
  CHECK(contains(b.run("notify { webhok = 'http://x', text = 'x' }"),
                 "notify: unknown key 'webhok'; did you mean 'webhook'?"));
}

TEST_CASE("port_in_use names the pid, command and service of a listener, and nil for a free port") {
  Bench b;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  CHECK(b.run("local h = port_in_use(" + port + ") return h.pid .. ' ' .. h.service") ==
        std::to_string(getpid()) + " web");
  CHECK(contains(b.run("return port_in_use(" + port + ").command"), "unit_tests"));
  ::close(fd);
  CHECK(b.run("return tostring(port_in_use(" + port + "))") == "nil");
  CHECK(contains(b.run("port_in_use(70000)"), "a TCP port is 1 to 65535"));
}

TEST_CASE("state keeps values across Lua states that share the store, and set(k, nil) forgets") {
  Bench b;
  CHECK(b.run("state.set('seen', { count = 2, names = { 'a', 'b' } }) return 'ok'") == "ok");
  Bench reloaded;
  reloaded.environment.state = &b.store;
  CHECK(reloaded.run("local v = state.get('seen') return v.count .. v.names[2]") == "2b");
  CHECK(reloaded.run("state.set('seen', nil) return tostring(state.get('seen'))") == "nil");
  CHECK(contains(b.run("state.set('f', print)"), "state.set: cannot encode a function"));
}

TEST_CASE("env reads luvsup's environment and refuses writes") {
  Bench b;
  CHECK(b.run("return env.HOME") == std::getenv("HOME"));
  CHECK(b.run("return tostring(env.LUVSUP_SURELY_UNSET_VARIABLE)") == "nil");
  CHECK(contains(b.run("env.HOME = '/tmp'"), "env is read-only"));
}

TEST_CASE("calls that need what the environment lacks raise a clear error") {
  Bench b(false);
  CHECK(contains(b.run("exec { 'true' }"), "exec: not available here"));
  CHECK(contains(b.run("http.get('http://127.0.0.1:1/')"), "http.get: not available here"));
  CHECK(contains(b.run("state.get('x')"), "state.get: not available here"));
  CHECK(contains(b.run("port_in_use(80)"), "port_in_use: not available here"));
}

TEST_CASE("helpers outside luvsup's scheduler raise instead of running") {
  lua::LuaState state;
  auto error = state.run([](lua_State* L) {
    runbook::open_helpers(L);
    luaL_dostring(L, "return port_in_use(80)");
    lua_error(L);
  });
  REQUIRE(error.has_value());
  CHECK(contains(*error, "port_in_use can only be used while luvsup runs the stack"));
  error = state.run([](lua_State* L) {
    if (luaL_dostring(L, "exec { 'true' }") != LUA_OK) {
      lua_error(L);
    }
  });
  REQUIRE(error.has_value());
  CHECK(contains(*error, "exec"));
  CHECK(state.run([](lua_State* L) {
    if (luaL_dostring(L, "assert(json.encode({1}) == '[1]')") != LUA_OK) {
      lua_error(L);
    }
  }) == std::nullopt);
}
