// One record per exit of a service's main process (or per failed spawn).
// Restart policies, hooks, status and logs all read the same record.
#pragma once

#include <string>
#include <string_view>

namespace luvsup::core {

// Why the process went away, as far as luvsup knows.
enum class ExitCause {
  crashed,              // exited on its own with a failure code or a signal
  completed,            // exited on its own with a success code
  spawn_failed,         // never ran: exec failed, missing user, bad cwd, ...
  killed_by_health,     // killed because its health check failed (health issue)
  stopped_by_user,      // stopped on request
  restarted_by_reload,  // its definition changed
  shutdown,             // luvsup is stopping the stack
  start_refused,        // never ran: its before_start hook refused, failed or timed out
  restarted_by_hook,    // a hook asked for a restart (svc:restart())
};

std::string_view to_string(ExitCause cause);

// How a process ended, as waitpid reports it.
struct ExitStatus {
  int code = -1;     // exit code, or -1 when killed by a signal
  int signal = 0;    // terminating signal, or 0
  bool core_dumped = false;
};

struct ExitRecord {
  ExitCause cause = ExitCause::crashed;
  ExitStatus status;
  bool success = false;     // code is one of the service's success codes
  double uptime = 0;        // seconds between spawn and exit
  double time = 0;          // monotonic time of the exit, seconds
  double wall_time = 0;     // wall-clock time of the exit, seconds since the epoch
  std::string error;        // spawn failures and refused starts: what failed and why
};

// "exited with code 1", "killed by signal KILL (core dumped)", "spawn failed: ...",
// "refused by before_start: ..." (a refused start says why in its error)
std::string describe(const ExitRecord& record);

}  // namespace luvsup::core
