// The terminal view of `luvsup run`: every service's output interleaved, each
// line behind the service's name in a colour of its own (as foreman and
// docker compose show it):
//
//   backend | listening on :5001
//   cache   | Ready to accept connections
//
// It never blocks the loop. Writes go through a private non-blocking open of
// the terminal (or pipe), a short backlog absorbs bursts, and lines that do
// not fit while the terminal is behind are dropped and counted; a line
// "luvsup: N lines dropped (terminal too slow)" says so once it catches up.
// The service log files are unaffected: they lose nothing.
#pragma once

#include "os/unique_fd.hpp"
#include "uv/handle.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace luvsup::log {

class ConsoleView {
public:
  static constexpr size_t k_backlog_limit = 64 * 1024;

  // `fd` stays the caller's (it is duplicated or reopened, never closed);
  // `color` adds ANSI colours (use it only when fd is a terminal).
  ConsoleView(uv_loop_t* loop, int fd, bool color);
  ConsoleView(const ConsoleView&) = delete;
  ConsoleView& operator=(const ConsoleView&) = delete;

  // Shows one line of `service`'s output; never blocks.
  void line(std::string_view service, std::string_view payload, bool is_stderr);
  // Lines dropped so far because the terminal was behind.
  [[nodiscard]] uint64_t dropped_lines() const { return m_dropped_total; }
  // Bytes accepted but not yet written.
  [[nodiscard]] size_t backlog() const { return m_backlog.size(); }

private:
  void flush_backlog();
  void watch_writable(bool on);

  uv_loop_t* m_loop;
  os::UniqueFd m_fd;
  bool m_color;
  bool m_socket = false;
  bool m_broken = false; // a write failed for good (EPIPE, EIO): show nothing more
  size_t m_name_width = 0;
  uint64_t m_dropped = 0; // not yet announced
  uint64_t m_dropped_total = 0;
  std::string m_backlog;          // formatted, not yet written; empty (no memory) when caught up
  uv::UvHandle<uv_poll_t> m_poll; // waits for writability while a backlog exists
  bool m_polling = false;
};

} // namespace luvsup::log
