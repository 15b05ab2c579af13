// Shared helpers for the process tests: running real children, reading their
// pipes with deadlines, temporary directories, and the helper programs of
// tests/helpers.
#pragma once

#include "core/service_spec.hpp"
#include "os/file_text.hpp"
#include "process/launch_spec.hpp"
#include "process/launcher.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace luvsup::process::test {

using Clock = std::chrono::steady_clock;

// Polls `ready` every 10 ms until it is true or `seconds` have passed.
inline bool wait_until(const std::function<bool()>& ready, double seconds = 5.0) {
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!ready()) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Reads `fd` until EOF or the deadline; closes it.
inline std::string read_all(int fd, double seconds = 5.0) {
  std::string out;
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) {
      continue;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      break;  // EINTR: a signal handler an earlier test left installed; read on
    }
  }
  close(fd);
  return out;
}

// Waits (with a deadline) for a child of this process; returns the waitpid
// status, or nullopt on timeout.
inline std::optional<int> wait_exit(pid_t pid, double seconds = 5.0) {
  int status = 0;
  bool done = wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }, seconds);
  return done ? std::optional<int>(status) : std::nullopt;
}

// A process that exits while its stat is read (ESRCH) counts as gone.
inline bool alive(pid_t pid) {
  const std::string text = os::read_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
  auto close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

inline core::ServiceSpec make_spec(std::vector<std::string> argv, std::string name = "svc") {
  core::ServiceSpec spec;
  spec.name = std::move(name);
  spec.argv = std::move(argv);
  return spec;
}

// prepare_launch + launch, failing the test on an error.
inline Launched start(const core::ServiceSpec& spec, const std::string& tag = "000000000000/svc",
                      bool separate_stderr = false) {
  auto prepared = prepare_launch(spec, ChildContext{tag, {}});
  if (auto* error = std::get_if<LaunchError>(&prepared)) {
    FAIL(error->message());
  }
  auto launched = launch(std::get<LaunchSpec>(prepared), separate_stderr);
  if (auto* error = std::get_if<LaunchError>(&launched)) {
    FAIL(error->message());
  }
  return std::get<Launched>(launched);
}

// Runs `argv` to completion and returns its merged output.
inline std::string output_of(const core::ServiceSpec& spec) {
  Launched child = start(spec);
  std::string out = read_all(child.out_fd);
  auto status = wait_exit(child.pid);
  CHECK(status.has_value());
  return out;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// A fresh directory under /tmp, removed with its contents at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char templ[] = "/tmp/luvsup-test-XXXXXX";
    path = mkdtemp(templ);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  [[nodiscard]] std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// The path of a program built from tests/helpers/NAME.c; the Makefile builds
// them before the unit tests.
inline std::string helper(const std::string& name) {
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
  std::string path = (exe.parent_path() / "helpers" / name).string();
  REQUIRE_MESSAGE(std::filesystem::exists(path), "missing test helper " << path << " (make builds it)");
  return path;
}

inline pid_t read_pid_file(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

// Kills and reaps (when it is our child) a process a test left running.
inline void kill_and_reap(pid_t pid) {
  if (pid > 1) {
    kill(pid, SIGKILL);
    wait_until(
        [&] {
          pid_t got = waitpid(pid, nullptr, WNOHANG);
          return got == pid || (got < 0 && !alive(pid));
        },
        5.0);
  }
}

}  // namespace luvsup::process::test
