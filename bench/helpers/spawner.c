/* The cold-start floor: starts `argv[2]` `argv[1]` times as fast as one
 * process can, with the caller's environment, and exits without waiting
 * (the children carry the harness's tag and are killed by it).
 *
 *   spawner N PROGRAM [ARG...]            posix_spawn, nothing else
 *   spawner --cgroups DIR N PROGRAM ...   each child in a session of its own
 *                                         and a fresh cgroup DIR/sI, made
 *                                         here and entered by clone3 with
 *                                         CLONE_INTO_CGROUP, its stdin
 *                                         /dev/null and its output a pipe:
 *                                         the kernel's part of what a
 *                                         supervisor that tracks process
 *                                         trees does per start, without
 *                                         any supervisor of its own.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char** environ;

static char** child_argv;
static int child_out = -1;

/* Runs in the child, on its own stack in the parent's memory (the parent is
 * suspended until execve, as with vfork). */
static void child_main(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  dup2(in, 0);
  dup2(child_out, 1);
  dup2(child_out, 2);
  execve(child_argv[0], child_argv, environ);
  _exit(127);
}

#if defined(__x86_64__)
/* clone3 whose child calls child_main on the stack in `args` and never
 * returns into the parent's frames. */
static long clone3_child(struct clone_args* args) {
  long result = SYS_clone3;
  register void (*fn)(void) asm("r12") = child_main;
  asm volatile("syscall\n\t"
               "testq %%rax, %%rax\n\t"
               "jnz 1f\n\t"
               "xorl %%ebp, %%ebp\n\t"
               "callq *%%r12\n\t"
               "movl $127, %%edi\n\t"
               "movl $60, %%eax\n\t"
               "syscall\n\t"
               "hlt\n\t"
               "1:\n\t"
               : "+a"(result)
               : "D"(args), "S"(sizeof *args), "r"(fn)
               : "rcx", "r11", "memory");
  return result;
}
#endif

static int spawn_in_cgroups(const char* dir, int n) {
#if defined(__x86_64__)
  static char stack[64 * 1024] __attribute__((aligned(16)));
  sigset_t all, saved;
  sigfillset(&all);
  for (int i = 0; i < n; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/s%d", dir, i);
    if (mkdir(path, 0755) != 0) {
      perror(path);
      return 1;
    }
    int cgroup = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int out[2];
    if (cgroup < 0 || pipe2(out, O_CLOEXEC) != 0) {
      perror(path);
      return 1;
    }
    child_out = out[1];
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (unsigned long long)cgroup;
    args.stack = (unsigned long long)(unsigned long)stack;
    args.stack_size = sizeof stack;
    sigprocmask(SIG_SETMASK, &all, &saved);
    long pid = clone3_child(&args);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) {
      fprintf(stderr, "clone3: %s\n", strerror((int)-pid));
      return 1;
    }
    close(out[1]);
    close(cgroup);
    /* The read ends stay open until exit, as a supervisor keeps them. */
  }
  return 0;
#else
  (void)dir;
  (void)n;
  fprintf(stderr, "spawner --cgroups: x86_64 only\n");
  return 2;
#endif
}

int main(int argc, char** argv) {
  const char* cgroups = NULL;
  if (argc > 2 && strcmp(argv[1], "--cgroups") == 0) {
    cgroups = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc < 3) {
    fprintf(stderr, "usage: spawner [--cgroups DIR] N PROGRAM [ARG...]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  if (cgroups != NULL) {
    child_argv = argv + 2;
    return spawn_in_cgroups(cgroups, n);
  }
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) {
      perror("posix_spawn");
      return 1;
    }
  }
  return 0;
}
