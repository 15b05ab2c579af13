#include "lua/lua_state.hpp"
#include "process/launch_spec.hpp"
#include "process/launcher.hpp"
#include "process/signal_resets.hpp"
#include "process/process_table.hpp"
#include "test_process_support.hpp"

#include <fcntl.h>
#include <lauxlib.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <set>

using namespace luvsup;
using namespace luvsup::process;
using namespace luvsup::process::test;

TEST_CASE("a launched echo writes its output to the pipe and exits 0") {
  Launched child = start(make_spec({"echo", "hello", "world"}));
  CHECK(child.pid > 0);
  CHECK(child.err_fd == -1);
  CHECK((fcntl(child.out_fd, F_GETFL) & O_NONBLOCK) != 0);
  CHECK((fcntl(child.out_fd, F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(read_all(child.out_fd) == "hello world\n");
  auto status = wait_exit(child.pid);
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

TEST_CASE("stdout and stderr share one pipe unless stderr is asked for separately") {
  auto spec = make_spec({"/bin/sh", "-c", "echo out; echo err >&2"});
  CHECK(output_of(spec) == "out\nerr\n");

  Launched child = start(spec, "000000000000/svc", true);
  REQUIRE(child.err_fd >= 0);
  CHECK((fcntl(child.err_fd, F_GETFL) & O_NONBLOCK) != 0);
  CHECK(read_all(child.out_fd) == "out\n");
  CHECK(read_all(child.err_fd) == "err\n");
  CHECK(wait_exit(child.pid).has_value());
}

TEST_CASE("stdin comes from the given file and defaults to /dev/null") {
  TempDir dir;
  std::ofstream(dir / "input") << "line one\nline two\n";
  auto spec = make_spec({"cat"});
  spec.stdin_path = dir / "input";
  CHECK(output_of(spec) == "line one\nline two\n");
  CHECK(output_of(make_spec({"cat"})) == "");
}

TEST_CASE("the environment carries the tag and the service's variables but no systemd variables") {
  setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  setenv("LISTEN_FDS", "3", 1);
  setenv("LUVSUP_TEST_INHERITED", "yes", 1);
  auto spec = make_spec({"env"});
  spec.env = {{"FOO", "1"}, {"BAR", "2"}, {"FOO", "3"}, {"LUVSUP_SERVICE", "forged"}};
  auto prepared = prepare_launch(spec, ChildContext{"0123456789ab/web", {}});
  unsetenv("NOTIFY_SOCKET");
  unsetenv("LISTEN_FDS");
  unsetenv("LUVSUP_TEST_INHERITED");
  REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
  auto launched = launch(std::get<LaunchSpec>(prepared), false);
  REQUIRE(std::holds_alternative<Launched>(launched));
  auto child = std::get<Launched>(launched);
  std::string env = read_all(child.out_fd);
  wait_exit(child.pid);
  CHECK(env.find("LUVSUP_SERVICE=0123456789ab/web\n") != std::string::npos);
  CHECK(env.find("forged") == std::string::npos);
  CHECK(env.find("LUVSUP_TEST_INHERITED=yes\n") != std::string::npos);
  CHECK(env.find("FOO=3\n") != std::string::npos);
  CHECK(env.find("FOO=1") == std::string::npos);
  CHECK(env.find("BAR=2\n") != std::string::npos);
  CHECK(env.find("NOTIFY_SOCKET") == std::string::npos);
  CHECK(env.find("LISTEN_FDS") == std::string::npos);
}

TEST_CASE("the command is looked up in the child's own PATH") {
  TempDir dir;
  {
    std::ofstream script(dir / "only-here");
    script << "#!/bin/sh\necho found\n";
  }
  chmod((dir / "only-here").c_str(), 0755);
  auto spec = make_spec({"only-here"});
  spec.env = {{"PATH", dir.path + ":/usr/bin:/bin"}};
  auto prepared = prepare_launch(spec, ChildContext{"000000000000/svc", {}});
  REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
  CHECK(std::get<LaunchSpec>(prepared).path == dir / "only-here");
  CHECK(output_of(spec) == "found\n");
}

TEST_CASE("the child runs in its working directory") {
  TempDir dir;
  auto spec = make_spec({"pwd"});
  spec.cwd = dir.path;
  CHECK(trim(output_of(spec)) == dir.path);
}

TEST_CASE("a relative command with a slash is found from the working directory") {
  TempDir dir;
  std::filesystem::create_directory(dir / "bin");
  {
    std::ofstream script(dir / "bin/app");
    script << "#!/bin/sh\necho app\n";
  }
  chmod((dir / "bin/app").c_str(), 0755);
  auto spec = make_spec({"./bin/app"});
  spec.cwd = dir.path;
  CHECK(output_of(spec) == "app\n");
}

TEST_CASE("the umask is applied") {
  auto spec = make_spec({"/bin/sh", "-c", "umask"});
  spec.umask = 027;
  CHECK(trim(output_of(spec)) == "0027");
}

TEST_CASE("resource limits are applied, base limits first and the service's own over them") {
  auto spec = make_spec({"/bin/sh", "-c", "ulimit -n; ulimit -c"});
  auto prepared = prepare_launch(
      spec, ChildContext{"000000000000/svc", {core::ResourceLimit{RLIMIT_NOFILE, 200, 300},
                                              core::ResourceLimit{RLIMIT_CORE, 0, 0}}});
  REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
  auto child = std::get<Launched>(launch(std::get<LaunchSpec>(prepared), false));
  CHECK(read_all(child.out_fd) == "200\n0\n");
  wait_exit(child.pid);

  spec.limits = {core::ResourceLimit{RLIMIT_NOFILE, 123, 300}};
  prepared = prepare_launch(
      spec, ChildContext{"000000000000/svc", {core::ResourceLimit{RLIMIT_NOFILE, 200, 300}}});
  REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
  CHECK(std::get<LaunchSpec>(prepared).limits.size() == 1);
  child = std::get<Launched>(launch(std::get<LaunchSpec>(prepared), false));
  CHECK(read_all(child.out_fd) == "123\n0\n");
  wait_exit(child.pid);
}

TEST_CASE("a missing command is reported as ENOENT with its path") {
  auto prepared = prepare_launch(make_spec({"/nonexistent/luvsup-nope"}), ChildContext{});
  REQUIRE(std::holds_alternative<LaunchError>(prepared));
  auto error = std::get<LaunchError>(prepared);
  CHECK(error.err == ENOENT);
  CHECK(error.message() == "exec /nonexistent/luvsup-nope: No such file or directory (ENOENT)");

  auto spec = make_spec({"luvsup-no-such-command"});
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  prepared = prepare_launch(spec, ChildContext{});
  REQUIRE(std::holds_alternative<LaunchError>(prepared));
  error = std::get<LaunchError>(prepared);
  CHECK(error.err == ENOENT);
  CHECK(error.what == "exec luvsup-no-such-command (PATH=/usr/bin:/bin)");
}

TEST_CASE("a file without execute permission is reported as EACCES") {
  TempDir dir;
  std::ofstream(dir / "script") << "#!/bin/sh\necho no\n";
  chmod((dir / "script").c_str(), 0644);
  auto prepared = prepare_launch(make_spec({dir / "script"}), ChildContext{});
  REQUIRE(std::holds_alternative<LaunchError>(prepared));
  CHECK(std::get<LaunchError>(prepared).err == EACCES);
  CHECK(std::get<LaunchError>(prepared).what == "exec " + (dir / "script"));

  // Also when only execve can tell (the parent's check was skipped).
  LaunchSpec spec;
  spec.path = dir / "script";
  spec.argv = {spec.path};
  auto launched = launch(spec, false);
  REQUIRE(std::holds_alternative<LaunchError>(launched));
  CHECK(std::get<LaunchError>(launched).err == EACCES);
  CHECK(std::get<LaunchError>(launched).what == "exec " + (dir / "script"));
}

TEST_CASE("a bad working directory is reported as a chdir error and the child is reaped") {
  auto spec = make_spec({"true"});
  spec.cwd = "/nonexistent/luvsup-dir";
  auto prepared = prepare_launch(spec, ChildContext{});
  REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
  auto zombies = [] {
    size_t count = 0;
    for (pid_t pid : own_children()) {
      auto info = read_process(pid);
      count += info && info->state == 'Z' ? 1 : 0;
    }
    return count;
  };
  size_t zombies_before = zombies();
  auto launched = launch(std::get<LaunchSpec>(prepared), false);
  REQUIRE(std::holds_alternative<LaunchError>(launched));
  auto error = std::get<LaunchError>(launched);
  CHECK(error.err == ENOENT);
  CHECK(error.message() == "chdir /nonexistent/luvsup-dir: No such file or directory (ENOENT)");
  CHECK(zombies() == zombies_before);  // launch reaped it
}

TEST_CASE("a stdin file that cannot be opened is reported with its path") {
  auto spec = make_spec({"cat"});
  spec.stdin_path = "/nonexistent/input";
  auto launched = launch(std::get<LaunchSpec>(prepare_launch(spec, ChildContext{})), false);
  REQUIRE(std::holds_alternative<LaunchError>(launched));
  CHECK(std::get<LaunchError>(launched).what == "open stdin /nonexistent/input");
  CHECK(std::get<LaunchError>(launched).err == ENOENT);
}

TEST_CASE("the child leads a new session and process group") {
  Launched child = start(make_spec({"/bin/sh", "-c", "ps -o pid=,pgid=,sid= -p $$"}));
  std::string out = read_all(child.out_fd);
  wait_exit(child.pid);
  std::string id = std::to_string(child.pid);
  std::istringstream fields(out);
  std::string pid, pgid, sid;
  fields >> pid >> pgid >> sid;
  CHECK(pid == id);
  CHECK(pgid == id);
  CHECK(sid == id);
}

TEST_CASE("the child inherits no descriptor beyond stdin, stdout and stderr") {
  int leak = open("/dev/null", O_RDONLY);  // not close-on-exec on purpose
  REQUIRE(leak > 2);
  std::string out = output_of(make_spec({"/bin/sh", "-c", "ls /proc/$$/fd"}));
  close(leak);
  CHECK(out == "0\n1\n2\n");
}

namespace {

// The child's SigIgn/SigBlk lines while luvsup ignores SIGUSR1 and glibc's
// reserved signal 32 (which glibc's own sigaction() will not reset) and
// blocks SIGUSR2; with `snapshot`, the dispositions are read once before the
// start, as for a burst.
std::string signal_status_of_child(bool snapshot) {
  signal(SIGUSR1, SIG_IGN);
  luvsup::process::KernelSigaction ignore{SIG_IGN, 0, nullptr, 0}, saved{};
  REQUIRE(syscall(SYS_rt_sigaction, 32, &ignore, &saved, sizeof ignore.mask) == 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::optional<luvsup::process::SignalSnapshot> burst;
  if (snapshot) {
    burst.emplace();
  }
  // grep reads its own status: no shell in between that might change signals.
  std::string out = output_of(make_spec({"/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}));
  burst.reset();
  signal(SIGUSR1, SIG_DFL);
  syscall(SYS_rt_sigaction, 32, &saved, nullptr, sizeof saved.mask);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  return out;
}

}  // namespace

TEST_CASE("signals luvsup ignores or blocks are default and unblocked in the child") {
  for (bool snapshot : {false, true}) {
    std::string out = signal_status_of_child(snapshot);
    INFO("snapshot " << snapshot << ", child status: " << out);
    CHECK(out.find("SigBlk:\t0000000000000000") != std::string::npos);
    CHECK(out.find("SigIgn:\t0000000000000000") != std::string::npos);
  }
}

TEST_CASE("a signal snapshot lists exactly the signals that are not at their default") {
  signal(SIGUSR1, SIG_IGN);
  signal(SIGUSR2, [](int) {});
  const auto resets = luvsup::process::read_signal_resets();
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
  std::set<int> listed(resets.signals, resets.signals + resets.count);
  CHECK(listed.count(SIGUSR1) == 1);
  CHECK(listed.count(SIGUSR2) == 1);
  for (int sig = 1; sig < NSIG; ++sig) {
    luvsup::process::KernelSigaction now{};
    REQUIRE(syscall(SYS_rt_sigaction, sig, nullptr, &now, sizeof now.mask) == 0);
    if (sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGKILL || sig == SIGSTOP) {
      continue;
    }
    INFO("signal " << sig);
    CHECK(listed.count(sig) == (now.handler != SIG_DFL ? 1u : 0u));
  }
  CHECK(luvsup::process::snapshot_signal_resets() == nullptr);  // none made here
}

TEST_CASE("a call into Lua ends a signal snapshot's use, as a hook may have loaded a C module that set a handler") {
  luvsup::lua::LuaState lua;
  luvsup::process::SignalSnapshot burst;
  CHECK(luvsup::process::snapshot_signal_resets() != nullptr);
  REQUIRE_FALSE(lua.run([](lua_State* L) { luaL_dostring(L, "local x = 1"); }).has_value());
  CHECK(luvsup::process::snapshot_signal_resets() == nullptr);
}

TEST_CASE("launch errors read as what failed, the error text and its name") {
  CHECK(LaunchError{ENOENT, "exec /usr/bin/nope"}.message() ==
        "exec /usr/bin/nope: No such file or directory (ENOENT)");
  CHECK(LaunchError{0, "user \"x\": no such user"}.message() == "user \"x\": no such user");
}

TEST_CASE("a child that shares luvsup's memory until execve leaves luvsup's stack and memory as they were") {
  // The child runs on a stack of its own inside luvsup's memory: whatever it
  // does before execve (or before failing) must not change the caller's frames.
  std::vector<int> heap(4096);
  int frame[256];
  for (int i = 0; i < 256; ++i) {
    frame[i] = i * 7;
  }
  for (size_t i = 0; i < heap.size(); ++i) {
    heap[i] = static_cast<int>(i);
  }
  for (int round = 0; round < 50; ++round) {
    auto spec = make_spec({"true"});
    spec.cwd = round % 2 == 0 ? "/" : "/nonexistent-luvsup-dir";
    auto prepared = prepare_launch(spec, ChildContext{});
    REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
    auto launched = launch(std::get<LaunchSpec>(prepared), false);
    if (round % 2 == 0) {
      REQUIRE(std::holds_alternative<Launched>(launched));
      const auto& child = std::get<Launched>(launched);
      ::close(child.out_fd);
      REQUIRE(wait_exit(child.pid).has_value());
    } else {
      REQUIRE(std::holds_alternative<LaunchError>(launched));
      CHECK(std::get<LaunchError>(launched).err == ENOENT);
    }
  }
  bool intact = true;
  for (int i = 0; i < 256; ++i) {
    intact = intact && frame[i] == i * 7;
  }
  for (size_t i = 0; i < heap.size(); ++i) {
    intact = intact && heap[i] == static_cast<int>(i);
  }
  CHECK(intact);
}
