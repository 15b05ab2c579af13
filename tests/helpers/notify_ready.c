/* A Type=notify service in miniature: sends sd_notify datagrams to
 * $NOTIFY_SOCKET the way sd_notify(3) does (one sendmsg per message, to the
 * path, or to an abstract socket for a leading '@'), and runs the actions its
 * arguments name, in order:
 *
 *   send=TEXT     send TEXT as one datagram ("\n" in TEXT becomes a newline)
 *   sendfd=TEXT   the same, with a descriptor attached (SCM_RIGHTS)
 *   big           send a datagram larger than sd_notify's 4096-byte limit
 *   watchdog      send WATCHDOG=1 every WATCHDOG_USEC/4, for ever (exit 3
 *                 when WATCHDOG_USEC is unset, as sd_watchdog_enabled says)
 *   fd=N          write "\n" to descriptor N and close it
 *   env=FILE      write NOTIFY_SOCKET, WATCHDOG_USEC and LISTEN_FDS to FILE
 *   sleep=SECONDS sleep
 *   wait          sleep until killed
 *
 * Exits 2 when a message cannot be sent. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void sleep_seconds(double s) {
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void unescape(char* text) {
  char* out = text;
  for (char* in = text; *in; ++in) {
    if (in[0] == '\\' && in[1] == 'n') {
      *out++ = '\n';
      ++in;
    } else {
      *out++ = *in;
    }
  }
  *out = 0;
}

static void notify(const char* text, size_t len, int pass_fd) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == NULL || (path[0] != '/' && path[0] != '@')) {
    fprintf(stderr, "notify_ready: NOTIFY_SOCKET is not set\n");
    exit(2);
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n >= sizeof addr.sun_path) {
    exit(2);
  }
  memcpy(addr.sun_path, path, n);
  if (addr.sun_path[0] == '@') {
    addr.sun_path[0] = 0;
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    exit(2);
  }
  struct iovec iov = {(void*)text, len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &addr;
  msg.msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  if (pass_fd >= 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
    perror("notify_ready: sendmsg");
    exit(2);
  }
  close(fd);
}

static void write_env(const char* file) {
  FILE* f = fopen(file, "w");
  if (f == NULL) {
    exit(2);
  }
  const char* names[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
                         "LISTEN_PID", "LISTEN_FDNAMES"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    const char* v = getenv(names[i]);
    fprintf(f, "%s=%s\n", names[i], v ? v : "(unset)");
  }
  fprintf(f, "END\n");
  fclose(f);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (strncmp(arg, "send=", 5) == 0) {
      unescape(arg + 5);
      notify(arg + 5, strlen(arg + 5), -1);
    } else if (strncmp(arg, "sendfd=", 7) == 0) {
      unescape(arg + 7);
      notify(arg + 7, strlen(arg + 7), STDOUT_FILENO);
    } else if (strcmp(arg, "big") == 0) {
      static char big[8192];
      memset(big, 'x', sizeof big);
      memcpy(big, "READY=1\nSTATUS=", 15);
      notify(big, sizeof big, -1);
    } else if (strcmp(arg, "watchdog") == 0) {
      const char* usec = getenv("WATCHDOG_USEC");
      if (usec == NULL || atoll(usec) <= 0) {
        fprintf(stderr, "notify_ready: WATCHDOG_USEC is not set\n");
        return 3;
      }
      for (;;) {
        notify("WATCHDOG=1", 10, -1);
        sleep_seconds((double)atoll(usec) / 4e6);
      }
    } else if (strncmp(arg, "fd=", 3) == 0) {
      int fd = atoi(arg + 3);
      if (write(fd, "\n", 1) != 1) {
        perror("notify_ready: write to the readiness fd");
        return 2;
      }
      close(fd);
    } else if (strncmp(arg, "env=", 4) == 0) {
      write_env(arg + 4);
    } else if (strncmp(arg, "sleep=", 6) == 0) {
      sleep_seconds(atof(arg + 6));
    } else if (strcmp(arg, "wait") == 0) {
      for (;;) {
        pause();
      }
    } else {
      fprintf(stderr, "notify_ready: unknown action %s\n", arg);
      return 64;
    }
  }
  return 0;
}
