// Shared helpers for the readiness tests: sending sd_notify datagrams the way
// sd_notify(3) does, counting this process's open descriptors.
#pragma once

#include <doctest/doctest.h>

#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace luvsup::readiness::test {

// Sends `text` as one datagram to the socket at `path`, with `fds` attached
// (SCM_RIGHTS) when given. Returns sendmsg's result.
inline ssize_t send_notify(const std::string& path, const std::string& text,
                           const std::vector<int>& fds = {}) {
  int sock = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    return -1; // no doctest assertion: this may run on a sender thread
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = sizeof addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  const ssize_t n = ::sendmsg(sock, &msg, 0);
  ::close(sock);
  return n;
}

// Descriptors open in this process right now.
inline int open_fd_count() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') {
      ++count;
    }
  }
  ::closedir(dir);
  return count - 1; // the directory stream's own
}

} // namespace luvsup::readiness::test
