#include "readiness/notify_socket.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace luvsup::readiness {

namespace {

// Datagrams read per wake-up, so that a flood cannot starve the loop.
constexpr int k_batch = 64;
// The kernel's limit of descriptors in one message (SCM_MAX_FD).
constexpr size_t k_max_fds = 253;

std::string failure(const char* what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

} // namespace

std::variant<std::unique_ptr<NotifySocket>, std::string>
NotifySocket::open(uv_loop_t* loop, std::string path, std::string service, Handler handler,
                   const std::optional<SocketOwner>& owner) {
  const std::string bind_path = owner ? owner->staging_dir + path.substr(path.rfind('/')) : path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  for (const std::string* p : {static_cast<const std::string*>(&path), &bind_path}) {
    if (p->size() >= sizeof addr.sun_path) {
      return fmt::format("socket path {} is longer than {} bytes", *p, sizeof addr.sun_path - 1);
    }
  }
  std::memcpy(addr.sun_path, bind_path.c_str(), bind_path.size() + 1);
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return failure("socket for", path);
  }
  if (::unlink(bind_path.c_str()) != 0 && errno != ENOENT) {
    return failure("remove the old socket", bind_path);
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return failure("bind", bind_path);
  }
  const int on = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    auto error = failure("enable SO_PASSCRED on", bind_path);
    ::unlink(bind_path.c_str());
    return error;
  }
  if (owner) {
    std::string error;
    if (::chown(bind_path.c_str(), owner->uid, owner->gid) != 0) {
      error = failure("hand over", bind_path);
    } else if (::chmod(bind_path.c_str(), 0600) != 0) {
      error = failure("chmod 0600", bind_path);
    } else if (::rename(bind_path.c_str(), path.c_str()) != 0) {
      error = fmt::format("move {} to {}: {}", bind_path, path, std::strerror(errno));
    }
    if (!error.empty()) {
      ::unlink(bind_path.c_str());
      return error;
    }
  }
  std::unique_ptr<NotifySocket> socket(new NotifySocket(std::move(path), std::move(service),
                                                        std::move(handler), std::move(fd), loop));
  if (!socket->m_poll.ok()) {
    return fmt::format("watch {}: {}", socket->m_path, uv_strerror(socket->m_poll.error()));
  }
  if (int rc = socket->m_poll.start_reading([raw = socket.get()](int status) {
        if (status < 0) {
          spdlog::warn("{}: notify socket error: {}", raw->m_service, uv_strerror(status));
          return;
        }
        raw->on_readable();
      });
      rc != 0) {
    return fmt::format("watch {}: {}", socket->m_path, uv_strerror(rc));
  }
  return socket;
}

NotifySocket::NotifySocket(std::string path, std::string service, Handler handler, os::UniqueFd fd,
                           uv_loop_t* loop)
    : m_path(std::move(path)), m_service(std::move(service)), m_handler(std::move(handler)),
      m_fd(std::move(fd)), m_poll(loop, m_fd.get()) {}

NotifySocket::~NotifySocket() {
  ::unlink(m_path.c_str());
}

void NotifySocket::on_readable() {
  for (int i = 0; i < k_batch && receive_one(); ++i) {
  }
}

bool NotifySocket::receive_one() {
  char data[k_max_notify_datagram];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * k_max_fds)];
  iovec iov{data, sizeof data};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  // MSG_TRUNC: the return value is the datagram's real length, however long.
  ssize_t n;
  do {
    n = ::recvmsg(m_fd.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      spdlog::warn("{}: reading the notify socket failed: {}", m_service, std::strerror(errno));
    }
    return false;
  }
  pid_t sender = 0;
  size_t fds = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) {
      continue;
    }
    if (c->cmsg_type == SCM_RIGHTS) {
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t k = 0; k < count; ++k) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
        ::close(fd);
      }
      fds += count;
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred cred{};
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      sender = cred.pid;
    }
  }
  if (fds > 0) {
    spdlog::debug("{}: closed {} descriptor{} sent with a notify message (luvsup keeps none)",
                  m_service, fds, fds == 1 ? "" : "s");
  }
  if (static_cast<size_t>(n) > sizeof data || (msg.msg_flags & MSG_TRUNC) != 0) {
    ++m_dropped;
    spdlog::warn("{}: ignored a notify message of {} bytes from pid {} (the limit is {})",
                 m_service, n, sender, sizeof data);
    return true;
  }
  m_handler(parse_notify_message(std::string_view(data, static_cast<size_t>(n))), sender);
  return true;
}

} // namespace luvsup::readiness
