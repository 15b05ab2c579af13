// The exec probe: runs a command and passes when it exits 0.
//
// The command runs as a process::GroupCommand: in its own session and process
// group with stdout and stderr on one pipe, of which the first k_max_output
// bytes are kept for the verdict and the log. At its timeout, or when the
// command exits, the whole group is SIGKILLed, so no background process
// outlives its probe. Exits come from the Reaper (luvsup's one reaping path,
// which never calls waitpid(-1)): UvPlatform hands each reaped pid to
// claim_exit first.
#pragma once

#include "core/exit_record.hpp"
#include "health/probe.hpp"
#include "process/group_command.hpp"
#include "process/launch_spec.hpp"

#include <sys/types.h>
#include <uv.h>

#include <memory>

namespace luvsup::health {

class ExecProbes {
public:
  static constexpr size_t k_max_output = 4096;

  explicit ExecProbes(uv_loop_t* loop) : m_commands(loop) {}
  ExecProbes(const ExecProbes&) = delete;
  ExecProbes& operator=(const ExecProbes&) = delete;

  // Launches `spec`. `done` runs once from a loop callback: ok = exit 0,
  // status = the exit code, output = what it printed; or the launch error, or
  // timed_out after `timeout` seconds (the group is killed).
  std::unique_ptr<PendingProbe> start(const process::LaunchSpec& spec, double timeout,
                                      ProbeDone done);

  // Takes the exit of a probe's process (true), or leaves it to the caller.
  bool claim_exit(pid_t pid, const core::ExitStatus& status) {
    return m_commands.claim_exit(pid, status);
  }

private:
  process::GroupCommands m_commands;
};

} // namespace luvsup::health
