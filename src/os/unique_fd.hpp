// A move-only owner of one file descriptor, closed on destruction.
//
// Every descriptor luvsup opens (pipes, log files, /proc files, the pid record
// file) goes through UniqueFd so that an early return never leaks one into the
// next child luvsup starts.
#pragma once

#include <unistd.h>

#include <utility>

namespace luvsup::os {

class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const { return m_fd; }
  [[nodiscard]] bool valid() const { return m_fd >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing; returns the descriptor (or -1).
  int release() { return std::exchange(m_fd, -1); }

  // Closes the current descriptor (if any) and takes ownership of `fd`.
  void reset(int fd = -1) {
    if (m_fd >= 0) {
      ::close(m_fd);  // EINTR on Linux still closes the descriptor: never retry
    }
    m_fd = fd;
  }

private:
  int m_fd = -1;
};

}  // namespace luvsup::os
