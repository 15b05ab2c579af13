// The sd_notify(3) datagram format, parsed without I/O.
//
// A datagram is newline-separated KEY=VALUE assignments ("READY=1\nSTATUS=up").
// luvsup acts on READY=1, STATUS=, STOPPING=1 and WATCHDOG=1 (and
// WATCHDOG=trigger, which systemd treats as an immediate watchdog failure);
// MAINPID=, RELOADING=1, ERRNO=, EXTEND_TIMEOUT_USEC= and any other line are
// accepted and ignored, as systemd ignores what it does not know. A line with
// a NUL byte or without '=' is garbage and ignored on its own; it never spoils
// the other lines of the datagram.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace luvsup::readiness {

// Datagrams longer than this are dropped whole (systemd's limit, PIPE_BUF):
// a truncated datagram could end in half an assignment.
inline constexpr size_t k_max_notify_datagram = 4096;

struct NotifyMessage {
  bool ready = false;                // READY=1
  bool stopping = false;             // STOPPING=1
  bool watchdog = false;             // WATCHDOG=1
  bool watchdog_trigger = false;     // WATCHDOG=trigger
  std::optional<std::string> status; // the last STATUS= of the datagram
  size_t ignored = 0;                // lines that were unknown, unsupported or garbage
  bool operator==(const NotifyMessage&) const = default;
};

NotifyMessage parse_notify_message(std::string_view datagram);

} // namespace luvsup::readiness
