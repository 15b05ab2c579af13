// The tcp and exec probes on a real libuv loop with real sockets and processes.
#include "health/exec_probe.hpp"
#include "health/tcp_probe.hpp"
#include "process/reaper.hpp"
#include "test_process_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <optional>
#include <vector>

using namespace luvsup;
using namespace luvsup::process::test;

namespace {

struct Loop {
  Loop() { REQUIRE(uv_loop_init(&loop) == 0); }
  ~Loop() {
    uv_run(&loop, UV_RUN_NOWAIT); // close callbacks
    uv_loop_close(&loop);
  }
  // Runs the loop until `done` or the deadline.
  bool run_until(const std::function<bool()>& done, double seconds = 10.0) {
    return wait_until(
        [&] {
          uv_run(&loop, UV_RUN_NOWAIT);
          return done();
        },
        seconds);
  }
  uv_loop_t loop;
};

// A listening socket on a free loopback port; closing it refuses connections.
struct Listener {
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { close(); }
  void close() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  int fd = -1;
  int port = 0;
};

process::LaunchSpec shell(const std::string& script) {
  process::LaunchSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin"};
  return spec;
}

} // namespace

TEST_CASE("a tcp probe passes when the port accepts and fails with the reason when it refuses") {
  Loop l;
  Listener listener;
  std::optional<health::ProbeResult> ok, refused;
  auto a = health::start_tcp_probe(&l.loop, "127.0.0.1", listener.port, 5,
                                   [&](health::ProbeResult r) { ok = r; });
  REQUIRE(l.run_until([&] { return ok.has_value(); }));
  CHECK(ok->ok);
  CHECK(ok->error.empty());
  CHECK(ok->latency >= 0);
  listener.close();
  auto b = health::start_tcp_probe(&l.loop, "127.0.0.1", listener.port, 5,
                                   [&](health::ProbeResult r) { refused = r; });
  REQUIRE(l.run_until([&] { return refused.has_value(); }));
  CHECK_FALSE(refused->ok);
  CHECK(refused->error == "connection refused");
  CHECK_FALSE(refused->timed_out);
}

TEST_CASE("a tcp probe reports a bad address from the loop, never inline") {
  Loop l;
  std::optional<health::ProbeResult> result;
  auto p = health::start_tcp_probe(&l.loop, "not-an-address", 80, 5,
                                   [&](health::ProbeResult r) { result = r; });
  CHECK_FALSE(result.has_value());
  REQUIRE(l.run_until([&] { return result.has_value(); }));
  CHECK_FALSE(result->ok);
  CHECK_FALSE(result->error.empty());
}

TEST_CASE("a cancelled tcp probe never calls back") {
  Loop l;
  Listener listener;
  bool called = false;
  auto p = health::start_tcp_probe(&l.loop, "127.0.0.1", listener.port, 5,
                                   [&](health::ProbeResult) { called = true; });
  p.reset();
  l.run_until([] { return false; }, 0.2);
  CHECK_FALSE(called);
}

TEST_CASE(
    "an exec probe reports the exit code, keeps the output and names the first line in the error") {
  Loop l;
  health::ExecProbes probes(&l.loop);
  process::Reaper reaper(&l.loop,
                         [&](pid_t pid, core::ExitStatus st) { probes.claim_exit(pid, st); });
  std::optional<health::ProbeResult> bad, good;
  auto a = probes.start(shell("echo 'no space left'; echo more >&2; exit 3"), 5,
                        [&](health::ProbeResult r) { bad = r; });
  auto b = probes.start(shell("exit 0"), 5, [&](health::ProbeResult r) { good = r; });
  REQUIRE(l.run_until([&] { return bad && good; }));
  CHECK_FALSE(bad->ok);
  CHECK(bad->status == 3);
  CHECK(bad->output == "no space left\nmore\n");
  CHECK(bad->error == "exited with code 3: no space left");
  CHECK(good->ok);
  CHECK(good->status == 0);
}

TEST_CASE("an exec probe keeps at most 4 KiB of output") {
  Loop l;
  health::ExecProbes probes(&l.loop);
  process::Reaper reaper(&l.loop,
                         [&](pid_t pid, core::ExitStatus st) { probes.claim_exit(pid, st); });
  std::optional<health::ProbeResult> result;
  auto p = probes.start(shell("head -c 100000 /dev/zero | tr '\\0' x"), 5,
                        [&](health::ProbeResult r) { result = r; });
  REQUIRE(l.run_until([&] { return result.has_value(); }));
  CHECK(result->ok);
  CHECK(result->output.size() == health::ExecProbes::k_max_output);
}

TEST_CASE("an exec probe past its timeout is killed with its whole group") {
  Loop l;
  TempDir dir;
  health::ExecProbes probes(&l.loop);
  process::Reaper reaper(&l.loop,
                         [&](pid_t pid, core::ExitStatus st) { probes.claim_exit(pid, st); });
  std::optional<health::ProbeResult> result;
  const std::string pid_file = dir.path + "/bg.pid";
  auto p = probes.start(shell("sleep 300 & echo $! > " + pid_file + "; sleep 300"), 0.3,
                        [&](health::ProbeResult r) { result = r; });
  REQUIRE(l.run_until([&] { return result.has_value(); }));
  CHECK(result->timed_out);
  CHECK(result->error == "timed out after 0.3s (killed)");
  const pid_t bg = read_pid_file(pid_file);
  REQUIRE(bg > 0);
  CHECK(l.run_until([&] { return !alive(bg); }));
}

TEST_CASE("a cancelled exec probe is killed, reaped and never calls back") {
  Loop l;
  TempDir dir;
  health::ExecProbes probes(&l.loop);
  std::vector<pid_t> claimed;
  process::Reaper reaper(&l.loop, [&](pid_t pid, core::ExitStatus st) {
    if (probes.claim_exit(pid, st)) {
      claimed.push_back(pid);
    }
  });
  bool called = false;
  const std::string pid_file = dir / "probe.pid";
  auto p = probes.start(shell("echo $$ > " + pid_file + "; exec sleep 300"), 30,
                        [&](health::ProbeResult) { called = true; });
  REQUIRE(wait_until([&] { return read_pid_file(pid_file) > 0; }));
  const pid_t pid = read_pid_file(pid_file);
  p.reset();
  CHECK(
      l.run_until([&] { return std::find(claimed.begin(), claimed.end(), pid) != claimed.end(); }));
  CHECK_FALSE(alive(pid));
  CHECK_FALSE(called);
}

TEST_CASE("an exec probe whose command cannot start reports why") {
  Loop l;
  health::ExecProbes probes(&l.loop);
  process::Reaper reaper(&l.loop,
                         [&](pid_t pid, core::ExitStatus st) { probes.claim_exit(pid, st); });
  std::optional<health::ProbeResult> result;
  process::LaunchSpec spec = shell("true");
  spec.path = "/nonexistent/check";
  auto p = probes.start(spec, 5, [&](health::ProbeResult r) { result = r; });
  REQUIRE(l.run_until([&] { return result.has_value(); }));
  CHECK_FALSE(result->ok);
  CHECK(result->error.find("exec /nonexistent/check") == 0);
}
