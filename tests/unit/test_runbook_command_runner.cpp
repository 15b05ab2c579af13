// runbook::CommandRunner on a real libuv loop with real processes, reaped
// through process::Reaper as in luvsup.
#include "process/reaper.hpp"
#include "runbook/command_runner.hpp"
#include "test_process_support.hpp"

#include <uv.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <vector>

using namespace luvsup;
using namespace luvsup::process::test;

namespace {

// A loop, a CommandRunner and a Reaper that hands it every exit.
struct Bench {
  Bench() {
    REQUIRE(uv_loop_init(&loop) == 0);
    reaper.emplace(&loop, [this](pid_t pid, core::ExitStatus st) {
      if (runner->claim_exit(pid, st)) {
        claimed.push_back(pid);
      }
    });
    runner.emplace(&loop);
  }
  ~Bench() {
    runner.reset();
    reaper.reset();
    uv_run(&loop, UV_RUN_NOWAIT);  // the handles' close callbacks free them
    uv_loop_close(&loop);
  }
  bool run_until(const std::function<bool()>& done, double seconds = 10.0) {
    return wait_until(
        [&] {
          uv_run(&loop, UV_RUN_NOWAIT);
          return done();
        },
        seconds);
  }
  // Runs `request` to its result.
  runbook::ExecResult run(const runbook::ExecRequest& request) {
    std::optional<runbook::ExecResult> result;
    auto op = runner->run(request, [&](runbook::ExecResult r) { result = std::move(r); });
    CHECK_FALSE(result.has_value()); // never inline
    REQUIRE(run_until([&] { return result.has_value(); }));
    return *result;
  }
  uv_loop_t loop{};
  std::optional<process::Reaper> reaper;
  std::optional<runbook::CommandRunner> runner;
  std::vector<pid_t> claimed;
};

runbook::ExecRequest sh(const std::string& script) {
  runbook::ExecRequest request;
  request.argv = {"sh", "-c", script};
  return request;
}

} // namespace

TEST_CASE("exec reports the exit code and stdout and stderr apart") {
  Bench b;
  auto result = b.run(sh("echo out; echo err >&2; exit 3"));
  CHECK(result.error.empty());
  CHECK(result.code == 3);
  CHECK(result.signal == 0);
  CHECK(result.out == "out\n");
  CHECK(result.err == "err\n");
  CHECK_FALSE(result.timed_out);
}

TEST_CASE("exec reports the signal that ended the command") {
  Bench b;
  auto result = b.run(sh("kill -TERM $$"));
  CHECK(result.code == -1);
  CHECK(result.signal == SIGTERM);
}

TEST_CASE("exec looks the command up in PATH and reports one that is not there") {
  Bench b;
  runbook::ExecRequest request;
  request.argv = {"echo", "hello"};
  CHECK(b.run(request).out == "hello\n");
  request.argv = {"luvsup-no-such-command"};
  auto result = b.run(request);
  CHECK(result.error == "exec: cannot run 'luvsup-no-such-command': No such file or directory");
}

TEST_CASE("exec gives the command its stdin text, cwd and added environment") {
  Bench b;
  TempDir dir;
  auto request = sh("cat; pwd; echo \"$LUVSUP_TEST_A $HOME\"");
  request.stdin_text = std::string("line one\nline two\n");
  request.cwd = dir.path;
  request.env = {{"LUVSUP_TEST_A", "added"}};
  auto result = b.run(request);
  CHECK(result.out == "line one\nline two\n" + dir.path + "\nadded " + std::getenv("HOME") + "\n");
}

TEST_CASE("exec without stdin text reads end of file at once") {
  Bench b;
  auto result = b.run(sh("wc -c"));
  CHECK(trim(result.out) == "0");
}

TEST_CASE("exec in a directory that does not exist cannot run") {
  Bench b;
  auto request = sh("true");
  request.cwd = "/nonexistent/luvsup";
  auto result = b.run(request);
  CHECK(result.error.find("exec: cannot run 'sh': chdir /nonexistent/luvsup") == 0);
}

TEST_CASE("exec keeps 1 MiB of each stream and says how much it dropped") {
  Bench b;
  auto result = b.run(sh("head -c 1100000 /dev/zero | tr '\\0' x; echo small >&2"));
  CHECK(result.code == 0);
  const std::string marker = "\n[luvsup: output truncated, 51424 more bytes not kept]\n";
  CHECK(result.out.size() == runbook::CommandRunner::k_max_output + marker.size());
  CHECK(result.out.substr(runbook::CommandRunner::k_max_output) == marker);
  CHECK(result.err == "small\n");
}

TEST_CASE("an exec past its timeout is killed with its whole group, grandchildren too") {
  Bench b;
  TempDir dir;
  const std::string pid_file = dir / "bg.pid";
  auto request = sh("sleep 300 & echo $! > " + pid_file + "; echo started; sleep 300");
  request.timeout = 0.3;
  auto result = b.run(request);
  CHECK(result.timed_out);
  CHECK(result.signal == SIGKILL);
  CHECK(result.out == "started\n");
  const pid_t bg = read_pid_file(pid_file);
  REQUIRE(bg > 0);
  CHECK(b.run_until([&] { return !alive(bg); }));
}

TEST_CASE("a cancelled exec kills its group, is reaped and never calls back") {
  Bench b;
  TempDir dir;
  const std::string pid_file = dir / "cmd.pid";
  const std::string bg_file = dir / "bg.pid";
  bool called = false;
  auto op =
      b.runner->run(sh("sleep 300 & echo $! > " + bg_file + "; echo $$ > " + pid_file + "; wait"),
                    [&](runbook::ExecResult) { called = true; });
  REQUIRE(wait_until([&] { return read_pid_file(pid_file) > 0; }));
  const pid_t pid = read_pid_file(pid_file);
  const pid_t bg = read_pid_file(bg_file);
  op.reset();
  CHECK(b.run_until(
      [&] { return std::find(b.claimed.begin(), b.claimed.end(), pid) != b.claimed.end(); }));
  CHECK_FALSE(alive(pid));
  CHECK(b.run_until([&] { return !alive(bg); }));
  CHECK_FALSE(called);
}
