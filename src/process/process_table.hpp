// A view of the processes on the machine, read from /proc.
//
// A service's processes cannot be found by parent links alone: a daemon that
// double-forks and calls setsid leaves its service's process group and, while
// its parent lives, is not luvsup's child either. Without a delegated cgroup,
// luvsup marks every child with LUVSUP_SERVICE=<stackhash>/<name>, which its
// descendants inherit, and combines that tag with process groups and parent
// links. Reading another user's environ needs root (or the same uid), which
// is also when services run as other users.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::process {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  uint64_t start_time = 0;  // clock ticks after boot: with the pid, a unique name
  char state = '?';         // 'Z' for a zombie, which is gone but for its reaping
};

// /proc/PID/stat of one process, or nullopt when it is gone.
std::optional<ProcessInfo> read_process(pid_t pid);

// Every process in /proc, in no particular order.
std::vector<ProcessInfo> snapshot();

// The value of LUVSUP_SERVICE in /proc/PID/environ, or nullopt when the
// process has none, is gone, or cannot be read.
std::optional<std::string> service_tag(pid_t pid);

// Every process other than luvsup itself that belongs to a service: in process
// group `pgid`, or carrying LUVSUP_SERVICE=<tag> exactly, or `main_pid`, or
// descending by parent links from any of those. Zombies are left out. Pass 0
// for a pgid or main_pid that is not known (or no longer alive: a pid that
// was reaped may be reused).
std::vector<pid_t> service_processes(std::string_view tag, pid_t pgid, pid_t main_pid);

// Every process (other than luvsup) whose tag starts with "<stack_hash>/":
// what any service of that stack left running. Zombies are left out.
std::vector<pid_t> stack_processes(std::string_view stack_hash);

// Field 22 of /proc/PID/stat, or 0 when the process is gone.
uint64_t process_start_time(pid_t pid);

// luvsup's own children (direct, including adopted orphans and zombies), from
// /proc/self/task/*/children, or by scanning /proc when the kernel lacks
// CONFIG_PROC_CHILDREN.
std::vector<pid_t> own_children();

// Sends `sig` to each pid in `pids`, and only to them: process groups are
// signalled on purpose with signal_group, by a caller that knows the group
// belongs to the service (a tagged process may have joined someone else's
// group). Skips pids <= 1 and luvsup itself; a pid that is already gone is
// not an error.
void signal_all(const std::vector<pid_t>& pids, int sig);

// Sends `sig` to process group `pgid`, unless pgid <= 1 or it is luvsup's own
// group. Returns false (errno set) when nothing was signalled.
bool signal_group(pid_t pgid, int sig);

}  // namespace luvsup::process
