#include "process/launcher.hpp"

#include "process/child_clone.hpp"
#include "process/child_setup.hpp"
#include "process/signal_resets.hpp"
#include "os/unique_fd.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

namespace luvsup::process {

namespace {

const char* rlimit_name(int resource) {
  switch (resource) {
    case RLIMIT_AS: return "AS";
    case RLIMIT_CORE: return "CORE";
    case RLIMIT_CPU: return "CPU";
    case RLIMIT_DATA: return "DATA";
    case RLIMIT_FSIZE: return "FSIZE";
    case RLIMIT_LOCKS: return "LOCKS";
    case RLIMIT_MEMLOCK: return "MEMLOCK";
    case RLIMIT_MSGQUEUE: return "MSGQUEUE";
    case RLIMIT_NICE: return "NICE";
    case RLIMIT_NOFILE: return "NOFILE";
    case RLIMIT_NPROC: return "NPROC";
    case RLIMIT_RSS: return "RSS";
    case RLIMIT_RTPRIO: return "RTPRIO";
    case RLIMIT_SIGPENDING: return "SIGPENDING";
    case RLIMIT_STACK: return "STACK";
    default: return "?";
  }
}

std::string limit_value(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("infinity") : std::to_string(value);
}

// Turns the child's report into the words of the error message.
std::string describe(const ChildFailure& failure, const LaunchSpec& spec, int ready_target) {
  switch (static_cast<ChildStep>(failure.step)) {
    case ChildStep::fds: return "move pipe descriptors";
    case ChildStep::setsid: return "setsid";
    case ChildStep::open_stdin: return "open stdin " + spec.stdin_path;
    case ChildStep::dup: return "dup2 stdout/stderr";
    case ChildStep::close_fds: return "close inherited descriptors";
    case ChildStep::setrlimit: {
      auto index = static_cast<size_t>(failure.index);
      if (index >= spec.limits.size()) {
        return "setrlimit";
      }
      const auto& limit = spec.limits[index];
      return std::string("setrlimit ") + rlimit_name(limit.resource) + " " +
             limit_value(limit.soft) + "/" + limit_value(limit.hard);
    }
    case ChildStep::setgroups: return "setgroups";
    case ChildStep::setgid: return "setgid " + std::to_string(spec.gid.value_or(0));
    case ChildStep::setuid: return "setuid " + std::to_string(spec.uid.value_or(0));
    case ChildStep::chdir: return "chdir " + spec.cwd;
    case ChildStep::exec: return "exec " + spec.path;
    case ChildStep::join_cgroup: return "join the service's cgroup";
    case ChildStep::ready_fd: return "give the readiness pipe descriptor number " + std::to_string(ready_target);
    case ChildStep::report: return "read the child's start report";
    case ChildStep::report_pipe: return "pipe";
  }
  return "start child (step " + std::to_string(failure.step) + ")";
}

// A pipe with both ends close-on-exec (the child's dup2 onto 1 and 2 clears
// the flag on the copies it keeps); the read end non-blocking for the loop.
bool make_pipe(os::UniqueFd& read_end, os::UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return false;
  }
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  int flags = fcntl(fds[0], F_GETFL);
  return flags >= 0 && fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) == 0;
}

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));  // execve's signature; never written
  }
  out.push_back(nullptr);
  return out;
}

void reap_blocking(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::variant<Launched, LaunchError> launch(const LaunchSpec& spec, bool separate_stderr,
                                          int cgroup_dir_fd, InheritedFd ready,
                                          bool create_in_cgroup) {
  if (ready.fd >= 0 && ready.target < 3) {
    return LaunchError{EBADF, "give the readiness pipe descriptor number " +
                                  std::to_string(ready.target) + " (use 3 or more)"};
  }
  os::UniqueFd out_r, out_w, err_r, err_w;
  if (!make_pipe(out_r, out_w) || (separate_stderr && !make_pipe(err_r, err_w))) {
    return LaunchError{errno, "pipe"};
  }
  // Everything the child touches is built before fork: it must not allocate.
  std::vector<char*> argv = pointers(spec.argv);
  std::vector<char*> envp = pointers(spec.env);
  ChildPlan plan;
  plan.path = spec.path.c_str();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  plan.stdin_path = spec.stdin_path.empty() ? "/dev/null" : spec.stdin_path.c_str();
  plan.out_fd = out_w.get();
  plan.err_fd = err_w.get();
  plan.ready_fd = ready.fd;
  plan.ready_target = ready.target;
  plan.has_umask = spec.umask.has_value();
  plan.umask = spec.umask.value_or(0);
  plan.limits = spec.limits.data();
  plan.limit_count = spec.limits.size();
  plan.has_uid = spec.uid.has_value();
  plan.uid = spec.uid.value_or(0);
  plan.has_gid = spec.gid.has_value();
  plan.gid = spec.gid.value_or(0);
  plan.groups = spec.groups.data();
  plan.group_count = spec.groups.size();
  if (const SignalResets* resets = snapshot_signal_resets()) {
    plan.reset_signals = resets->signals;
    plan.reset_signal_count = resets->count;
  }
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
    plan.max_fd = static_cast<int>(nofile.rlim_cur < (1u << 20) ? nofile.rlim_cur : (1u << 20));
  }

  // Block every signal across fork so that none of luvsup's handlers runs in
  // the child before exec_child has reset them.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  // Created in the cgroup (clone3 with CLONE_INTO_CGROUP, Linux 5.7): moving
  // a running process into a cgroup instead (a write to cgroup.procs) waits
  // for an RCU grace period in the kernel, 10 to 25 ms on every start.
  ChildFailure failure;
  pid_t pid =
      cgroup_dir_fd >= 0 && create_in_cgroup ? clone_child(plan, cgroup_dir_fd, failure) : -1;
  os::UniqueFd cgroup_procs;
  if (pid < 0) {
    // Not to be created there, a kernel without clone3, or one that refuses
    // this cgroup: the child joins it by writing to cgroup.procs, which
    // reports any refusal.
    if (cgroup_dir_fd >= 0) {
      cgroup_procs = os::UniqueFd(openat(cgroup_dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC));
      if (!cgroup_procs) {
        const int open_errno = errno;
        pthread_sigmask(SIG_SETMASK, &saved, nullptr);
        return LaunchError{open_errno, "open the service's cgroup.procs"};
      }
      plan.cgroup_fd = cgroup_procs.get();
    }
    pid = clone_child(plan, -1, failure);
  }
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) {
    // No child: the report pipe could not be made, or the clone failed.
    return LaunchError{fork_errno,
                       failure.step != 0 ? describe(failure, spec, ready.target) : "fork"};
  }

  // The child has exec'd or exited: our copies of the write ends go, so
  // that EOF on the output means the service closed it.
  out_w.reset();
  err_w.reset();
  if (failure.step != 0) {
    reap_blocking(pid);  // the child _exits right after reporting
    return LaunchError{failure.err, describe(failure, spec, ready.target)};
  }
  return Launched{pid, out_r.release(), separate_stderr ? err_r.release() : -1};
}

}  // namespace luvsup::process
