// Cuts one output stream into log records (pure: no I/O, no clock).
//
// A record is a complete line (mark '|'), a max_line-sized piece of a longer
// line that continues in the next record (mark '+'), or, at the end of the
// stream, an unterminated last line (mark '%'). Bytes pass through verbatim:
// NUL, '\r' and invalid UTF-8 are payload like any other byte. A line is split
// only once a byte beyond max_line is seen that is not its newline, so a line
// of exactly max_line bytes is one '|' record and no record is ever empty
// except an empty line.
//
// The framer buffers only the tail of an unfinished line, and frees that
// buffer as soon as the line completes, so an idle stream holds no memory.
#pragma once

#include "log/record_format.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace luvsup::log {

class LineFramer {
public:
  explicit LineFramer(size_t max_line) { set_max_line(max_line); }

  // Takes effect from the next record; 0 is treated as 1.
  void set_max_line(size_t max_line) { m_max = std::max<size_t>(max_line, 1); }
  [[nodiscard]] size_t max_line() const { return m_max; }

  // Cuts `data` into records, calling emit(std::string_view payload, char mark)
  // for each one completed so far, in order.
  template <typename Emit> void feed(std::string_view data, Emit&& emit) {
    while (!data.empty()) {
      if (m_partial.empty()) {
        const size_t scan = std::min(data.size(), m_max + 1);
        const auto* nl = static_cast<const char*>(std::memchr(data.data(), '\n', scan));
        if (nl != nullptr) {
          const size_t len = static_cast<size_t>(nl - data.data());
          emit(data.substr(0, len), mark::k_line);
          data.remove_prefix(len + 1);
        } else if (data.size() > m_max) {
          emit(data.substr(0, m_max), mark::k_continued);
          data.remove_prefix(m_max);
        } else {
          m_partial.assign(data);
          return;
        }
        continue;
      }
      // Complete the buffered line: up to `room` more bytes fit in one record.
      // (room is 0 when max_line shrank below the buffered tail: cut it next byte)
      const size_t room = m_partial.size() < m_max ? m_max - m_partial.size() : 0;
      const size_t scan = std::min(data.size(), room + 1);
      const auto* nl = static_cast<const char*>(std::memchr(data.data(), '\n', scan));
      if (nl != nullptr) {
        const size_t len = static_cast<size_t>(nl - data.data());
        m_partial.append(data.data(), len);
        emit(std::string_view(m_partial), mark::k_line);
        data.remove_prefix(len + 1);
        drop_partial();
      } else if (data.size() > room) {
        m_partial.append(data.data(), room);
        emit(std::string_view(m_partial), mark::k_continued);
        data.remove_prefix(room);
        drop_partial();
      } else {
        m_partial.append(data);
        return;
      }
    }
  }

  // Ends the stream: emits a buffered unfinished line with mark '%'.
  template <typename Emit> void finish(Emit&& emit) {
    if (!m_partial.empty()) {
      emit(std::string_view(m_partial), mark::k_unterminated);
      drop_partial();
    }
  }

private:
  void drop_partial() { std::string().swap(m_partial); }

  size_t m_max = 1;
  std::string m_partial;
};

} // namespace luvsup::log
