/* A process that ignores SIGTERM, so only SIGKILL stops it.
 *
 * usage: ignore_term [PIDFILE]
 *
 * Ignores SIGTERM, writes its pid to PIDFILE when given, prints "ready" on
 * stdout (flushed), then sleeps forever.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  signal(SIGTERM, SIG_IGN);
  if (argc > 1) {
    FILE* f = fopen(argv[1], "w");
    if (f == NULL) {
      perror("ignore_term: open pid file");
      return 1;
    }
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    pause();
  }
}
