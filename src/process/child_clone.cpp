#include "process/child_clone.hpp"

#include "os/unique_fd.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace luvsup::process {

namespace {

#if defined(__x86_64__)

// Bytes of the child's stack: exec_child needs a few hundred; sanitizer
// builds need more.
constexpr size_t k_child_stack_bytes = 64 * 1024;

[[noreturn]] void child_main(const ChildPlan* plan) noexcept { exec_child(*plan); }

// clone3 whose child calls `fn(arg)` on the stack given in `args` and never
// returns into the caller's frames (which the parent still uses).
long clone3_calling(clone_args* args, void (*fn)(const ChildPlan*) noexcept,
                    const ChildPlan* arg) noexcept {
  long result = SYS_clone3;
  // Callee-saved registers, which syscall preserves, carry fn and arg across.
  register auto* function asm("r12") = fn;
  register const ChildPlan* argument asm("r13") = arg;
  asm volatile("syscall\n\t"
               "testq %%rax, %%rax\n\t"
               "jnz 1f\n\t"
               // The child: a fresh stack, aligned by the caller; no frame to return to.
               "xorl %%ebp, %%ebp\n\t"
               "movq %%r13, %%rdi\n\t"
               "callq *%%r12\n\t"
               "movl $127, %%edi\n\t"
               "movl %[exit_nr], %%eax\n\t"
               "syscall\n\t"
               "hlt\n\t"
               "1:\n\t"
               : "+a"(result)
               : "D"(args), "S"(sizeof *args), "r"(function), "r"(argument),
                 [exit_nr] "i"(SYS_exit)
               : "rcx", "r11", "memory");
  return result;
}

#endif

}  // namespace

pid_t clone_child(const ChildPlan& plan, int cgroup_dir_fd, ChildFailure& failure) {
#if defined(__x86_64__)
  // The child writes a failure straight into the caller's `failure`: no pipe
  // to make, close and read on every start.
  failure = ChildFailure{};
  ChildPlan shared = plan;
  shared.failure = &failure;
  shared.report_fd = -1;
  // The parent is suspended while the child runs, so the child's stack can be
  // a part of the parent's that nothing else uses meanwhile (musl's
  // posix_spawn does the same).
  alignas(16) char stack[k_child_stack_bytes];
  clone_args args{};
  args.flags = CLONE_VM | CLONE_VFORK | (cgroup_dir_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<__u64>(stack);
  args.stack_size = sizeof stack;
  if (cgroup_dir_fd >= 0) {
    args.cgroup = static_cast<__u64>(cgroup_dir_fd);
  }
  const long result = clone3_calling(&args, &child_main, &shared);
#if defined(__SANITIZE_ADDRESS__)
  // The child's instrumented frames marked parts of this buffer in the shadow
  // memory the two share; the parent's later frames reuse these addresses.
  ASAN_UNPOISON_MEMORY_REGION(stack, sizeof stack);
#endif
  if (result >= 0) {
    return static_cast<pid_t>(result);
  }
  errno = static_cast<int>(-result);
  if (cgroup_dir_fd >= 0 || errno != ENOSYS) {
    return -1;
  }
#endif
  return fork_child(plan, cgroup_dir_fd, failure);
}

pid_t fork_child(const ChildPlan& plan, int cgroup_dir_fd, ChildFailure& failure) {
  failure = ChildFailure{};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    failure = ChildFailure{static_cast<int>(ChildStep::report_pipe), errno, 0};
    return -1;
  }
  os::UniqueFd report_r(fds[0]);
  os::UniqueFd report_w(fds[1]);
  ChildPlan piped = plan;
  piped.failure = nullptr;
  piped.report_fd = report_w.get();
  pid_t pid;
  if (cgroup_dir_fd >= 0) {
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<__u64>(cgroup_dir_fd);
    pid = static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
  } else {
    pid = fork();
  }
  if (pid == 0) {
    exec_child(piped);
  }
  if (pid < 0) {
    const int fork_errno = errno;
    report_r.reset();
    report_w.reset();
    errno = fork_errno;
    return -1;
  }
  // Our copy of the write end closed, EOF means "the child exec'd".
  report_w.reset();
  ChildFailure report;
  ssize_t n;
  do {
    n = read(report_r.get(), &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof report)) {
    failure = report;
  } else if (n != 0) {
    // We cannot tell whether it exec'd: make sure it did not.
    failure = ChildFailure{static_cast<int>(ChildStep::report), n < 0 ? errno : EIO, 0};
    kill(pid, SIGKILL);
  }
  return pid;
}

}  // namespace luvsup::process
