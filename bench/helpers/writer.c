/* The log-throughput service: writes $WRITER_BYTES bytes (default 512 MiB)
 * of 128-byte lines to stdout, 64 KiB per write(2), then sleeps until killed
 * (or exits 0 with $WRITER_EXIT set, for the `cat > file` reference).
 *
 * Line i is "%012lld " (i) followed by 114 letters that depend on i and a
 * newline, so a checker can tell a lost, duplicated or reordered line from
 * an intact log. Before writing, it appends "<CLOCK_MONOTONIC ns> <pid>\n" to
 * $WRITER_START_FILE so that the harness times from the first byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { k_line = 128, k_lines_per_write = 512 };

static void fill_line(char* p, long long i) {
  char head[32];
  snprintf(head, sizeof head, "%012lld ", i % 1000000000000LL);
  memcpy(p, head, 13);
  for (int c = 13; c < k_line - 1; ++c) {
    p[c] = (char)('a' + (i + c) % 26);
  }
  p[k_line - 1] = '\n';
}

static int write_all(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(void) {
  const char* bytes_env = getenv("WRITER_BYTES");
  long long total = bytes_env ? atoll(bytes_env) : 512LL << 20;
  long long lines = total / k_line;
  const char* start_file = getenv("WRITER_START_FILE");
  if (start_file != NULL) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char text[64];
    int n = snprintf(text, sizeof text, "%lld %d\n",
                     (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (int)getpid());
    int fd = open(start_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (write(fd, text, (size_t)n) != n) {
        return 3;
      }
      close(fd);
    }
  }
  static char buf[k_line * k_lines_per_write];
  for (long long i = 0; i < lines;) {
    int batch = 0;
    for (; batch < k_lines_per_write && i < lines; ++batch, ++i) {
      fill_line(buf + (size_t)batch * k_line, i);
    }
    if (write_all(buf, (size_t)batch * k_line) != 0) {
      return 2;
    }
  }
  if (getenv("WRITER_EXIT") != NULL) {
    return 0;
  }
  for (;;) {
    pause();
  }
}
