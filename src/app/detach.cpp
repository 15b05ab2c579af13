#include "app/detach.hpp"

#include "app/commands.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace luvsup::app {

void DetachReport::send(const std::string& line) {
  if (!m_fd) {
    return;
  }
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(m_fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break; // the parent is gone: nobody left to tell
    }
    done += static_cast<size_t>(n);
  }
  m_fd.reset();
}

void DetachReport::up(const std::string& message) {
  send("up " + message);
}

void DetachReport::failed(const std::string& why) {
  send("failed: " + why);
}

namespace {

// The original process: waits for the report and turns it into an exit code.
int wait_for_report(os::UniqueFd from_child, pid_t child, const std::string& log_file) {
  std::string report;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(from_child.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    report.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  while (!report.empty() && report.back() == '\n') {
    report.pop_back();
  }
  if (report.starts_with("up ")) {
    fmt::print("{}\n", report.substr(3));
    return k_exit_ok;
  }
  if (report.starts_with("failed: ")) {
    fmt::print(stderr, "luvsup: {} (see {})\n", report.substr(8), log_file);
  } else {
    fmt::print(stderr, "luvsup: the background luvsup exited while starting; see {}\n", log_file);
  }
  return k_exit_failure;
}

bool redirect(int target, const char* path, int flags) {
  const int fd = ::open(path, flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  const bool ok = ::dup2(fd, target) >= 0; // dup2 clears FD_CLOEXEC on the copy
  ::close(fd);
  return ok;
}

} // namespace

std::variant<Detached, int> detach(const std::string& log_file) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_file).parent_path(), ec);
  const int probe = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (probe < 0) {
    fmt::print(stderr, "luvsup: cannot open the log file {}: {}\n", log_file, std::strerror(errno));
    return k_exit_failure;
  }
  ::close(probe);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    fmt::print(stderr, "luvsup: cannot detach: pipe: {}\n", std::strerror(errno));
    return k_exit_failure;
  }
  os::UniqueFd read_end(fds[0]);
  os::UniqueFd write_end(fds[1]);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    fmt::print(stderr, "luvsup: cannot detach: fork: {}\n", std::strerror(errno));
    return k_exit_failure;
  }
  if (child > 0) {
    write_end.reset();
    return wait_for_report(std::move(read_end), child, log_file);
  }
  read_end.reset();
  // A new session without a terminal; the second fork makes sure the
  // supervisor, no session leader, can never acquire one again.
  ::setsid();
  const pid_t grandchild = ::fork();
  if (grandchild != 0) {
    ::_exit(grandchild < 0 ? k_exit_failure : k_exit_ok);
  }
  if (!redirect(STDIN_FILENO, "/dev/null", O_RDONLY) ||
      !redirect(STDOUT_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND) ||
      ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) {
    DetachReport(std::move(write_end))
        .failed(fmt::format("cannot redirect to {}: {}", log_file, std::strerror(errno)));
    ::_exit(k_exit_failure);
  }
  return Detached{DetachReport(std::move(write_end))};
}

} // namespace luvsup::app
