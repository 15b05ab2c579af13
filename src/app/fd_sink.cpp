#include "app/fd_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace luvsup::app {

namespace {

// spdlog's ansicolor_sink choices, so a terminal looks as it did.
std::string_view level_color(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "\033[37m";
    case spdlog::level::debug: return "\033[36m";
    case spdlog::level::info: return "\033[32m";
    case spdlog::level::warn: return "\033[33m\033[1m";
    case spdlog::level::err: return "\033[31m\033[1m";
    case spdlog::level::critical: return "\033[1m\033[41m";
    default: return {};
  }
}

constexpr std::string_view k_reset = "\033[m";

constexpr size_t k_kept_capacity = 16 * 1024;

void append(spdlog::memory_buf_t& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

}  // namespace

void FdSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string_view color = m_color ? level_color(msg.level) : std::string_view{};
  if (color.empty()) {
    formatter_->format(msg, m_pending);  // straight into the batch
    return;
  }
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  const std::string_view text(line.data(), line.size());
  if (msg.color_range_end <= msg.color_range_start || msg.color_range_end > text.size()) {
    append(m_pending, text);
    return;
  }
  append(m_pending, text.substr(0, msg.color_range_start));
  append(m_pending, color);
  append(m_pending, text.substr(msg.color_range_start, msg.color_range_end - msg.color_range_start));
  append(m_pending, k_reset);
  append(m_pending, text.substr(msg.color_range_end));
}

void FdSink::flush_() {
  const char* data = m_pending.data();
  size_t left = m_pending.size();
  while (left > 0) {
    const ssize_t n = ::write(m_fd, data, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // see the header: the rest of this batch is lost
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
  m_pending.clear();
  if (m_pending.capacity() > k_kept_capacity) {
    m_pending = spdlog::memory_buf_t{};  // a burst's buffer is not kept for the rare next one
  }
}

}  // namespace luvsup::app
