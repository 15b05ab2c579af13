/* A daemon that double-forks, as classic Unix daemons do.
 *
 * usage: double_fork PIDFILE
 *
 * The process forks a child and waits for it; the child calls setsid (leaving
 * the parent's session and process group), forks the daemon and exits. The
 * daemon points stdin/stdout/stderr at /dev/null, writes its pid to PIDFILE
 * (atomically: tmp file + rename), tells the child it is done, and sleeps
 * forever. So when the first process exits, the pid file already exists, and
 * the daemon is an orphan in a session of its own.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_pidfile(const char* path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE* f = fopen(tmp, "w");
  if (f == NULL) {
    perror("double_fork: open pid file");
    exit(1);
  }
  fprintf(f, "%d\n", (int)getpid());
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    perror("double_fork: write pid file");
    exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: double_fork PIDFILE\n");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("double_fork: fork");
    return 1;
  }
  if (child > 0) {
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  setsid();
  int done[2];
  if (pipe(done) != 0) {
    return 1;
  }
  pid_t daemon = fork();
  if (daemon < 0) {
    return 1;
  }
  if (daemon > 0) {
    char c;
    close(done[1]);
    while (read(done[0], &c, 1) > 0) {
    }
    _exit(0);  /* the middle process exits; the daemon is orphaned */
  }
  close(done[0]);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) {
      close(null);
    }
  }
  write_pidfile(argv[1]);
  close(done[1]);
  for (;;) {
    pause();
  }
}
