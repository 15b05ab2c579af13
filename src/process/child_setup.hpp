// The code that runs in a child between fork and execve.
//
// Only async-signal-safe calls are allowed here: the child of a multi-threaded
// parent may find malloc's or NSS's locks held by a thread that no longer
// exists. Everything is therefore resolved by the parent into plain pointers
// and numbers (ChildPlan). A failure is sent back as a ChildFailure: written
// into the parent's memory by a child that shares it (CLONE_VM, the parent
// suspended until execve or exit), else through a close-on-exec pipe that the
// parent reads until EOF (EOF = execve worked).
#pragma once

#include "core/service_spec.hpp"

#include <sys/types.h>

#include <cstddef>

namespace luvsup::process {

// The step that failed, sent to the parent with errno.
enum class ChildStep : int {
  fds = 1,    // moving the pipe ends out of the way of 0, 1, 2
  setsid,
  open_stdin,
  dup,        // dup2 onto stdout/stderr
  close_fds,
  setrlimit,  // `index` says which limit
  setgroups,
  setgid,
  setuid,
  chdir,
  exec,
  join_cgroup,
  ready_fd,   // dup2 of the readiness pipe onto its descriptor number
  report,     // not the child's: the parent could not read the child's report
  report_pipe,  // not the child's: the parent could not make the report pipe
};

struct ChildFailure {
  int step = 0;  // a ChildStep
  int err = 0;   // errno
  int index = 0; // for setrlimit: the index in ChildPlan::limits
};

struct ChildPlan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;        // nullptr: stay in luvsup's directory
  const char* stdin_path = nullptr;
  int out_fd = -1;                  // write end for stdout (and stderr when merged)
  int err_fd = -1;                  // write end for stderr, or -1 when merged
  ChildFailure* failure = nullptr;  // the parent's, for a child sharing its memory; else:
  int report_fd = -1;               // close-on-exec pipe to the parent
  int cgroup_fd = -1;               // the service cgroup's cgroup.procs, or -1 (tag attribution only)
  int ready_fd = -1;                // write end of the readiness pipe, or -1
  int ready_target = -1;            // the descriptor number (3 or more) it gets in the child
  bool has_umask = false;
  mode_t umask = 0;
  const core::ResourceLimit* limits = nullptr;
  size_t limit_count = 0;
  bool has_uid = false;
  uid_t uid = 0;
  bool has_gid = false;
  gid_t gid = 0;
  const gid_t* groups = nullptr;    // set only together with uid
  size_t group_count = 0;
  int max_fd = 1024;                // fallback bound when close_range is missing
  const int* reset_signals = nullptr;  // the only signals to set to SIG_DFL, or nullptr: all
  size_t reset_signal_count = 0;
};

// Sets the child up as `plan` says and execs. Never returns: on failure it
// reports a ChildFailure (into plan.failure when set, else through
// plan.report_fd) and calls _exit(127).
[[noreturn]] void exec_child(const ChildPlan& plan) noexcept;

}  // namespace luvsup::process
