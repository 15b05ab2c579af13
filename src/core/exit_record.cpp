#include "core/exit_record.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstring>

namespace luvsup::core {

std::string_view to_string(ExitCause cause) {
  switch (cause) {
  case ExitCause::crashed: return "crashed";
  case ExitCause::completed: return "completed";
  case ExitCause::spawn_failed: return "spawn failed";
  case ExitCause::killed_by_health: return "killed by health check";
  case ExitCause::stopped_by_user: return "stopped by user";
  case ExitCause::restarted_by_reload: return "restarted by reload";
  case ExitCause::shutdown: return "shutdown";
  case ExitCause::start_refused: return "start refused";
  case ExitCause::restarted_by_hook: return "restarted by hook";
  }
  return "unknown";
}

namespace {
std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string(abbrev) : fmt::format("{}", sig);
}
}  // namespace

std::string describe(const ExitRecord& record) {
  if (record.cause == ExitCause::spawn_failed) {
    return "spawn failed: " + record.error;
  }
  if (record.cause == ExitCause::start_refused) {
    return record.error;
  }
  if (record.status.signal != 0) {
    return fmt::format("killed by signal {}{}", signal_name(record.status.signal),
                       record.status.core_dumped ? " (core dumped)" : "");
  }
  return fmt::format("exited with code {}", record.status.code);
}

}  // namespace luvsup::core
