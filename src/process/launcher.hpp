// Starting one child process from a resolved LaunchSpec.
//
// luvsup forks and execs itself instead of using uv_spawn, which cannot set
// the umask, resource limits or supplementary groups. The child is reaped by
// the Reaper (or, on a launch failure, by launch() itself), never by libuv.
#pragma once

#include "process/launch_spec.hpp"

#include <sys/types.h>

#include <variant>

namespace luvsup::process {

struct Launched {
  pid_t pid = -1;   // also the child's process group and session id
  int out_fd = -1;  // read end of stdout (and stderr when merged); O_NONBLOCK|O_CLOEXEC; caller closes
  int err_fd = -1;  // read end of stderr, or -1 when merged into out_fd
};

// A descriptor of luvsup's that the child gets under a chosen number (the
// write end of a `ready = { fd = N }` pipe). Unused while fd is -1.
struct InheritedFd {
  int fd = -1;      // luvsup's descriptor; stays open in luvsup
  int target = -1;  // the number it has in the child: 3 or more
};

// Forks and execs `spec`. The child gets default signal dispositions and an
// empty signal mask, its own session and process group, stdin from
// spec.stdin_path, stdout and stderr on one pipe (two when separate_stderr),
// no other descriptor of luvsup's, the umask, limits, groups, gid, uid and cwd
// of the spec, in that order, then execve. Returns once execve has succeeded;
// if any step failed, returns the LaunchError naming it ("chdir /srv/app:
// ...") with the child already reaped. With cgroup_dir_fd (a service
// cgroup's directory, open), the child is created in that cgroup when
// `create_in_cgroup` is set and the kernel can do it, else joins it through
// its cgroup.procs right after setsid. With `ready`, the child has ready.fd as descriptor
// ready.target (not close-on-exec); a target below 3 is refused (EBADF).
std::variant<Launched, LaunchError> launch(const LaunchSpec& spec, bool separate_stderr,
                                          int cgroup_dir_fd = -1, InheritedFd ready = {},
                                          bool create_in_cgroup = true);

}  // namespace luvsup::process
