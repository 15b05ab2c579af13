/* A daemon that escapes every attribution but a cgroup.
 *
 * usage: escape_env PIDFILE
 *
 * Forks; the child calls setsid and forks the daemon, then exits, so the
 * daemon is an orphan (its parent is no longer the service's main process)
 * in a session and process group of its own. The daemon writes its pid to
 * PIDFILE (tmp file + rename) and execs `sleep 1000` with an empty
 * environment, shedding LUVSUP_SERVICE. The first process waits for the pid
 * file to exist before it exits, so the caller can read it at once.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: escape_env PIDFILE\n");
    return 2;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("escape_env: fork");
    return 1;
  }
  if (child > 0) {
    int status = 0;
    waitpid(child, &status, 0);
    while (access(argv[1], F_OK) != 0) {
      usleep(1000);
    }
    return 0;
  }
  setsid();
  if (fork() != 0) {
    _exit(0);
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE* f = fopen(tmp, "w");
  if (f == NULL) {
    _exit(1);
  }
  fprintf(f, "%d\n", (int)getpid());
  fclose(f);
  rename(tmp, argv[1]);
  char* const args[] = {"sleep", "1000", NULL};
  char* const no_env[] = {NULL};
  execve("/bin/sleep", args, no_env);
  _exit(127);
}
