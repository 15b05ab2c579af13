#include "readiness/notify_message.hpp"

namespace luvsup::readiness {

namespace {

void apply(NotifyMessage& out, std::string_view line) {
  const auto eq = line.find('=');
  if (eq == std::string_view::npos || eq == 0 || line.find('\0') != std::string_view::npos) {
    ++out.ignored;
    return;
  }
  const std::string_view key = line.substr(0, eq);
  const std::string_view value = line.substr(eq + 1);
  if (key == "READY" && value == "1") {
    out.ready = true;
  } else if (key == "STOPPING" && value == "1") {
    out.stopping = true;
  } else if (key == "WATCHDOG" && value == "1") {
    out.watchdog = true;
  } else if (key == "WATCHDOG" && value == "trigger") {
    out.watchdog_trigger = true;
  } else if (key == "STATUS") {
    out.status = std::string(value);
  } else {
    ++out.ignored; // MAINPID=, RELOADING=1, ERRNO=, FDSTORE=1, ...
  }
}

} // namespace

NotifyMessage parse_notify_message(std::string_view datagram) {
  NotifyMessage out;
  while (!datagram.empty()) {
    const auto nl = datagram.find('\n');
    const std::string_view line = datagram.substr(0, nl);
    if (!line.empty()) {
      apply(out, line);
    }
    if (nl == std::string_view::npos) {
      break;
    }
    datagram.remove_prefix(nl + 1);
  }
  return out;
}

} // namespace luvsup::readiness
