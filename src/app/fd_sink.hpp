// A spdlog sink that formats records into memory and writes them to a file
// descriptor on flush(), in one write(2) per flush.
//
// spdlog's console sinks write and flush every record: one system call a
// line. luvsup's own log reaches its sink through BackgroundSink, whose writer
// thread hands over a whole batch and flushes once after it, so a burst (200
// services starting) costs one write instead of 200. Write errors (EPIPE, EIO,
// a closed descriptor) are ignored: a lost stderr must not stop luvsup. With
// `color`, the part of the pattern between %^ and %$ gets the level's ANSI
// color, as spdlog's color sinks do.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <mutex>

namespace luvsup::app {

class FdSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  FdSink(int fd, bool color) : m_fd(fd), m_color(color) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

private:
  int m_fd;
  bool m_color;
  spdlog::memory_buf_t m_pending;  // formatted, not yet written
};

}  // namespace luvsup::app
