// The commands runbooks run with `exec`.
//
// Each command is a process::GroupCommand: its own session and process group,
// stdout and stderr captured separately (each up to k_max_output bytes, then
// a truncation marker), its whole group SIGKILLed when it exits, at its
// timeout, or when the run waiting for it is cancelled (the PendingOp is
// destroyed). Its environment is luvsup's own (without the variables systemd
// set for luvsup, see process::EnvList::inherited) plus the additions asked
// for; argv[0] is looked up in that environment's PATH. One CommandRunner
// per luvsup process (UvPlatform owns it); the Reaper's callback hands it
// every reaped pid through claim_exit. The operations run() returns must be
// destroyed before it (the schedulers that own them go before the platform).
#pragma once

#include "core/exit_record.hpp"
#include "process/group_command.hpp"
#include "runbook/waiting_call.hpp"

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace luvsup::runbook {

struct ExecRequest {
  std::vector<std::string> argv;                        // argv[0] without '/' is looked up in PATH
  std::string cwd;                                      // "" = luvsup's working directory
  std::vector<std::pair<std::string, std::string>> env; // set over luvsup's environment
  std::optional<std::string> stdin_text;                // none: /dev/null
  double timeout = 30;                                  // seconds; 0 or less = none
};

struct ExecResult {
  // The command never ran: "exec: cannot run 'x': No such file or directory".
  // The other fields are then unset.
  std::string error;
  int code = -1;   // the exit code, -1 when killed by a signal or timed out
  int signal = 0;  // the signal that ended it, 0 when it exited
  std::string out; // its stdout and stderr, each capped with a marker
  std::string err;
  bool timed_out = false; // killed with its group at the timeout
};

using ExecDone = std::function<void(ExecResult)>;

class CommandRunner {
public:
  static constexpr size_t k_max_output = 1024 * 1024;

  explicit CommandRunner(uv_loop_t* loop) : m_commands(loop) {}
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  // Starts `request`. `done` is called once from a loop callback, never inline
  // and never after the returned operation is destroyed (which kills the
  // command's group). Every failure, including one found before the launch,
  // arrives through `done`.
  std::unique_ptr<PendingOp> run(const ExecRequest& request, ExecDone done);

  // Takes the exit of a command's process (true), or leaves it to the caller.
  bool claim_exit(pid_t pid, const core::ExitStatus& status) {
    return m_commands.claim_exit(pid, status);
  }

private:
  process::GroupCommands m_commands;
};

} // namespace luvsup::runbook
