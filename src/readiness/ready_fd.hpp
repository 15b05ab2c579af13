// The s6 readiness protocol: `ready = { fd = N }`.
//
// luvsup makes a pipe; the write end becomes descriptor N in the child, and
// the service is ready when it writes a newline there (whatever comes before
// the newline is ignored, as s6-supervise does). Then luvsup closes its read
// end: the service should close descriptor N after writing.
#pragma once

#include "os/unique_fd.hpp"
#include "uv/poll.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <variant>

namespace luvsup::readiness {

class ReadyFd {
public:
  // Makes the pipe and starts watching its read end. `on_ready` runs once,
  // when a newline arrives; it must not destroy this object. `service` names
  // it in log lines. Returns why it failed ("pipe: Too many open files").
  static std::variant<std::unique_ptr<ReadyFd>, std::string>
  open(uv_loop_t* loop, std::string service, std::function<void()> on_ready);
  ReadyFd(const ReadyFd&) = delete;
  ReadyFd& operator=(const ReadyFd&) = delete;
  ~ReadyFd() = default;

  // The write end for the child (close-on-exec in luvsup), -1 once closed.
  [[nodiscard]] int write_end() const { return m_write.get(); }
  // Closes luvsup's copy of the write end; call once the child has it, so
  // that the child's exit ends the pipe.
  void close_write_end() { m_write.reset(); }
  // True until the newline arrived or the child closed its end.
  [[nodiscard]] bool watching() const { return m_poll != nullptr; }

private:
  ReadyFd(std::string service, std::function<void()> on_ready, os::UniqueFd read_end,
          os::UniqueFd write_end);
  void on_readable();
  void finish();

  std::string m_service;
  std::function<void()> m_on_ready;
  os::UniqueFd m_read;
  os::UniqueFd m_write;
  std::unique_ptr<uv::Poll> m_poll; // null once done; always reset before m_read closes
};

} // namespace luvsup::readiness
