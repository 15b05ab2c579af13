/* The cold-start floor: posix_spawns `argv[2]` `argv[1]` times as fast as
 * one process can, with the caller's environment, and exits without waiting
 * (the children carry the harness's tag and are killed by it). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spawner N PROGRAM [ARG...]\n");
    return 2;
  }
  int n = atoi(argv[1]);
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) {
      perror("posix_spawn");
      return 1;
    }
  }
  return 0;
}
