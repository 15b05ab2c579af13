/* A service for the restart, crash-loop and cold-start workloads.
 *
 * Its first action is to append "<CLOCK_MONOTONIC ns> <pid>\n" to the file
 * named by $STAMP_FILE or, without it, by argv[1] (s6-supervise passes the
 * service's name as argv[1], so the environment comes first). Then it exits
 * with $STAMP_EXIT when that is set (a crash loop), or sleeps until killed. The line is one write(2) on an
 * O_APPEND descriptor, so concurrent services never interleave. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const char* path = getenv("STAMP_FILE");
  if (path == NULL && argc > 1) {
    path = argv[1];
  }
  if (path == NULL) {
    path = "stamp.log";
  }
  char line[64];
  int n = snprintf(line, sizeof line, "%lld %d\n",
                   (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (int)getpid());
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, line, (size_t)n) != n) {
      return 3;
    }
    close(fd);
  }
  const char* code = getenv("STAMP_EXIT");
  if (code != NULL && *code != '\0') {
    return atoi(code);
  }
  for (;;) {
    pause();
  }
}
