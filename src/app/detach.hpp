// `luvsup run --detach`: the supervisor moves to the background and the
// command returns once the stack is up (or failed), with the socket ready.
//
// A fork keeps only the calling thread, so this runs before the loop, the
// log thread or libuv's thread pool exist. The final process is a grandchild
// in its own session (never reacquires a terminal); its stdin is /dev/null
// and its stdout and stderr (luvsup's own log) go to the log file. It tells
// the waiting parent "up ..." or "failed: why" over a pipe, once.
#pragma once

#include "os/unique_fd.hpp"

#include <string>
#include <variant>

namespace luvsup::app {

// The background process's end of the report pipe.
class DetachReport {
public:
  DetachReport() = default;
  explicit DetachReport(os::UniqueFd fd) : m_fd(std::move(fd)) {}

  // Whether luvsup runs detached and has not reported yet.
  bool pending() const { return m_fd.valid(); }
  // The stack is up: the parent prints `message` and exits 0.
  void up(const std::string& message);
  // Starting failed: the parent prints "luvsup: why" and exits 1.
  void failed(const std::string& why);

private:
  void send(const std::string& line);
  os::UniqueFd m_fd;
};

struct Detached {
  DetachReport report;
};

// Forks into the background with the own log in `log_file`. Returns, in the
// background process, its report; in the original process (after the report
// or the background process's death) the exit code of `luvsup run`.
std::variant<Detached, int> detach(const std::string& log_file);

} // namespace luvsup::app
