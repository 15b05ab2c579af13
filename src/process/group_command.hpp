// Running a command to completion in a process group of its own: what exec
// health probes and runbooks' exec share.
//
// The command is launched (process/launcher.hpp) in its own session and
// process group; its stdout and stderr are captured, separately or on one
// pipe, each up to a cap (what comes past it is read and dropped, and
// counted). When the command exits, when its timeout passes, or when the
// handle is destroyed, the whole group is SIGKILLed, so nothing it started in
// the background outlives it. Exits come from the Reaper (luvsup's one
// reaping path, which never calls waitpid(-1)): its callback hands each
// reaped pid to claim_exit first. Every RunningCommand must be destroyed
// before the GroupCommands that started it.
#pragma once

#include "core/exit_record.hpp"
#include "process/launch_spec.hpp"

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace luvsup::process {

struct GroupCommandOptions {
  double timeout = 0;           // seconds until the group is killed; 0 or less = none
  size_t max_output = 4096;     // bytes kept of each captured stream
  bool separate_stderr = false; // false: stderr goes to the stdout pipe
};

// One captured stream: the first max_output bytes, and how many more came.
struct CapturedOutput {
  std::string text;
  size_t dropped = 0;
};

struct GroupCommandResult {
  std::string launch_error; // the command never ran: LaunchError::message(); all else unset
  core::ExitStatus status;  // how the main process ended (unset when timed out)
  bool timed_out = false;   // killed at the timeout
  CapturedOutput out;
  CapturedOutput err; // empty unless separate_stderr
  double latency = 0; // seconds from the start to the result
};

// Called once, always from a loop callback (never inline in start()).
using GroupCommandDone = std::function<void(GroupCommandResult)>;

// A command in flight: destroying it kills its group; `done` is then never called.
class RunningCommand {
public:
  virtual ~RunningCommand() = default;
};

class GroupCommand;

class GroupCommands {
public:
  explicit GroupCommands(uv_loop_t* loop) : m_loop(loop) {}
  GroupCommands(const GroupCommands&) = delete;
  GroupCommands& operator=(const GroupCommands&) = delete;

  // Launches `spec` (its stdin_path is the command's stdin). See the file
  // comment; a launch failure is reported through `done` too.
  std::unique_ptr<RunningCommand> start(const LaunchSpec& spec, const GroupCommandOptions& options,
                                        GroupCommandDone done);

  // Takes the exit of a command's main process (true), or leaves it to the
  // caller (false). Exits of commands killed or cancelled earlier are taken too.
  bool claim_exit(pid_t pid, const core::ExitStatus& status);

  [[nodiscard]] uv_loop_t* loop() const { return m_loop; }

private:
  friend class GroupCommand;
  uv_loop_t* m_loop;
  std::map<pid_t, GroupCommand*> m_running;
  std::set<pid_t> m_abandoned; // killed or cancelled, not reaped yet
};

} // namespace luvsup::process
