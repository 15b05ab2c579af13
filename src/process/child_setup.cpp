#include "process/child_setup.hpp"

#include "process/signal_resets.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)  // linux/close_range.h, kernel 5.11
#endif

namespace luvsup::process {

namespace {

[[noreturn]] void fail(const ChildPlan& plan, ChildStep step, int index = 0) noexcept {
  ChildFailure failure{static_cast<int>(step), errno, index};
  if (plan.failure != nullptr) {
    *plan.failure = failure;  // the parent reads it once the child has exited
    _exit(127);
  }
  ssize_t n;
  do {
    n = write(plan.report_fd, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  _exit(127);
}

// A descriptor below 3 would be overwritten by the dup2 onto 0, 1, 2.
int move_above_stdio(int fd) noexcept {
  if (fd < 0 || fd > 2) {
    return fd;
  }
  return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

// Raw: glibc's sigaction() refuses its reserved signals (32, 33), but an
// ignored one would still be inherited through exec.
void set_default(int sig) noexcept {
  const KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
  syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
}

void reset_signals(const ChildPlan& plan) noexcept {
  // The parent blocked every signal around fork, so no inherited handler
  // (libuv's writes to the parent's signal pipe) can run before this.
  if (plan.reset_signals != nullptr) {
    for (size_t i = 0; i < plan.reset_signal_count; ++i) {
      set_default(plan.reset_signals[i]);
    }
  } else {
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) {
        set_default(sig);
      }
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Marks every descriptor above stderr close-on-exec, so a report pipe keeps
// working until execve and nothing of luvsup's leaks into the service.
bool close_other_fds(int max_fd) noexcept {
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
    return true;
  }
  if (errno != ENOSYS && errno != EINVAL) {
    return false;
  }
  for (int fd = 3; fd < max_fd; ++fd) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);  // EBADF for the closed ones
  }
  return true;
}

}  // namespace

void exec_child(const ChildPlan& original) noexcept {
  ChildPlan plan = original;
  reset_signals(plan);
  if (plan.failure == nullptr) {
    plan.report_fd = move_above_stdio(plan.report_fd);
    if (plan.report_fd < 0) {
      _exit(127);  // nothing to report through
    }
  }
  plan.out_fd = move_above_stdio(plan.out_fd);
  plan.err_fd = move_above_stdio(plan.err_fd);
  plan.ready_fd = move_above_stdio(plan.ready_fd);
  if (plan.out_fd < 0 || (original.err_fd >= 0 && plan.err_fd < 0) ||
      (original.ready_fd >= 0 && plan.ready_fd < 0)) {
    fail(plan, ChildStep::fds);
  }
  // Its own session and process group: stopping the service signals the
  // group, and a terminal's signals for luvsup do not reach it.
  if (setsid() < 0) {
    fail(plan, ChildStep::setsid);
  }
  // Join the service's cgroup before anything can fork, so that every
  // descendant is in it, whatever it does to its session or environment.
  // Writing "0" moves the writer itself.
  if (plan.cgroup_fd >= 0 && write(plan.cgroup_fd, "0", 1) != 1) {
    fail(plan, ChildStep::join_cgroup);
  }
  // O_NONBLOCK so that a FIFO without a writer cannot hang the parent, which
  // waits for the exec; cleared right after.
  int in = open(plan.stdin_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (in < 0) {
    fail(plan, ChildStep::open_stdin);
  }
  int flags = fcntl(in, F_GETFL);
  if (flags >= 0) {
    fcntl(in, F_SETFL, flags & ~O_NONBLOCK);
  }
  if (in != 0) {
    if (dup2(in, 0) < 0) {
      fail(plan, ChildStep::open_stdin);
    }
    close(in);
  } else {
    fcntl(0, F_SETFD, 0);
  }
  if (dup2(plan.out_fd, 1) < 0 || dup2(plan.err_fd >= 0 ? plan.err_fd : plan.out_fd, 2) < 0) {
    fail(plan, ChildStep::dup);
  }
  if (!close_other_fds(plan.max_fd)) {
    fail(plan, ChildStep::close_fds);
  }
  // After close_other_fds, which would mark it close-on-exec again. A
  // report pipe must survive until execve: move it out of the way first.
  if (plan.ready_fd >= 0 && plan.ready_target > 2) {
    if (plan.failure == nullptr && plan.report_fd == plan.ready_target) {
      plan.report_fd = fcntl(plan.report_fd, F_DUPFD_CLOEXEC, plan.ready_target + 1);
      if (plan.report_fd < 0) {
        _exit(127);
      }
    }
    const int got = plan.ready_fd == plan.ready_target
                        ? fcntl(plan.ready_target, F_SETFD, 0)
                        : dup2(plan.ready_fd, plan.ready_target);
    if (got < 0) {
      fail(plan, ChildStep::ready_fd);
    }
  }
  if (plan.has_umask) {
    umask(plan.umask);
  }
  // Limits before dropping privileges: raising a hard limit needs root.
  for (size_t i = 0; i < plan.limit_count; ++i) {
    rlimit rl{plan.limits[i].soft, plan.limits[i].hard};
    if (setrlimit(static_cast<__rlimit_resource>(plan.limits[i].resource), &rl) != 0) {
      fail(plan, ChildStep::setrlimit, static_cast<int>(i));
    }
  }
  // Raw syscalls: the child of a threaded parent must not run glibc's
  // all-threads credential broadcast. Groups, then gid, then uid (last, as
  // it gives up the right to do the others).
  if (plan.has_uid && syscall(SYS_setgroups, plan.group_count, plan.groups) != 0) {
    fail(plan, ChildStep::setgroups);
  }
  if (plan.has_gid && syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
    fail(plan, ChildStep::setgid);
  }
  if (plan.has_uid && syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
    fail(plan, ChildStep::setuid);
  }
  // After setuid, so the directory is checked with the service's rights.
  if (plan.cwd != nullptr && chdir(plan.cwd) != 0) {
    fail(plan, ChildStep::chdir);
  }
  execve(plan.path, plan.argv, plan.envp);
  fail(plan, ChildStep::exec);
}

}  // namespace luvsup::process
