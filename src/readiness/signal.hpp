// What a service's readiness channels tell the supervisor.
//
// The channels (the notify socket, the readiness pipe, a ready log line, the
// watchdog) only observe; UvPlatform hands every Signal to one callback, and
// the supervisor decides what it means (the first `ready` of any kind counts).
#pragma once

#include <string>

namespace luvsup::readiness {

enum class SignalKind {
  ready,           // READY=1, a newline on the readiness fd, or a matching log line
  status,          // STATUS=...: the service's own description of what it does (changes only)
  stopping,        // STOPPING=1: the service began shutting down by itself
  watchdog_missed, // no WATCHDOG=1 within `watchdog` seconds, or WATCHDOG=trigger
};

struct Signal {
  SignalKind kind = SignalKind::ready;
  std::string source; // "notify", "fd" or "log"
  // status: the new text; ready from a log line: the line; watchdog_missed:
  // why ("no WATCHDOG=1 for 2s"); otherwise empty.
  std::string text;
  bool operator==(const Signal&) const = default;
};

// "ready", "status", "stopping" or "watchdog missed".
const char* kind_name(SignalKind kind);

} // namespace luvsup::readiness
