#include "readiness/ready_fd.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace luvsup::readiness {

std::variant<std::unique_ptr<ReadyFd>, std::string>
ReadyFd::open(uv_loop_t* loop, std::string service, std::function<void()> on_ready) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return fmt::format("pipe: {}", std::strerror(errno));
  }
  os::UniqueFd read_end(fds[0]);
  os::UniqueFd write_end(fds[1]);
  // The child's end blocks like any ordinary descriptor it would be given.
  const int flags = ::fcntl(write_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(write_end.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return fmt::format("fcntl: {}", std::strerror(errno));
  }
  std::unique_ptr<ReadyFd> self(new ReadyFd(std::move(service), std::move(on_ready),
                                            std::move(read_end), std::move(write_end)));
  self->m_poll = std::make_unique<uv::Poll>(loop, self->m_read.get());
  int rc = self->m_poll->ok() ? self->m_poll->start_reading([raw = self.get()](int status) {
    if (status < 0) {
      spdlog::warn("{}: readiness descriptor error: {}", raw->m_service, uv_strerror(status));
      raw->finish();
      return;
    }
    raw->on_readable();
  })
                              : self->m_poll->error();
  if (rc != 0) {
    self->m_poll.reset();
    return fmt::format("watch the readiness pipe: {}", uv_strerror(rc));
  }
  return self;
}

ReadyFd::ReadyFd(std::string service, std::function<void()> on_ready, os::UniqueFd read_end,
                 os::UniqueFd write_end)
    : m_service(std::move(service)), m_on_ready(std::move(on_ready)), m_read(std::move(read_end)),
      m_write(std::move(write_end)) {}

void ReadyFd::finish() {
  m_poll.reset();
  m_read.reset();
}

void ReadyFd::on_readable() {
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(m_read.get(), buf, sizeof buf);
    if (n > 0) {
      if (std::memchr(buf, '\n', static_cast<size_t>(n)) != nullptr) {
        finish();
        auto ready = std::move(m_on_ready);
        ready();
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    if (n == 0) {
      spdlog::warn("{}: closed its readiness descriptor without writing a newline", m_service);
    } else {
      spdlog::warn("{}: reading the readiness descriptor failed: {}", m_service,
                   std::strerror(errno));
    }
    finish();
    return;
  }
}

} // namespace luvsup::readiness
