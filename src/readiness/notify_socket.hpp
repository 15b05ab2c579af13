// The socket a Type=notify service sends its sd_notify(3) datagrams to.
//
// One pathname AF_UNIX datagram socket per service, watched with uv_poll
// (libuv's uv_udp cannot do AF_UNIX) and read with recvmsg. SO_PASSCRED
// tells the sender's pid, which is only logged: any process may send, since
// systemd-notify(1) is a short-lived child of the service, and the socket's
// 0700 directory keeps other users out. Every descriptor a datagram carries
// (SCM_RIGHTS) is closed at once, and a datagram longer than
// k_max_notify_datagram is dropped whole rather than parsed truncated.
#pragma once

#include "os/unique_fd.hpp"
#include "readiness/notify_message.hpp"
#include "uv/poll.hpp"

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace luvsup::readiness {

// For a socket that a service of another user sends to: it is bound in
// luvsup's own `staging_dir`, handed to uid:gid with mode 0600 there (where
// nobody else can swap the name), then renamed to its path, which must be on
// the same file system.
struct SocketOwner {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string staging_dir;
};

class NotifySocket {
public:
  // Called once per valid datagram, with the sender's pid (0 when unknown).
  // It must not destroy the socket (record the facts and defer).
  using Handler = std::function<void(const NotifyMessage& message, pid_t sender)>;

  // Binds a socket at `path` (an old socket file there is replaced: it can
  // only be a leftover of a luvsup that was killed) and starts watching it.
  // `service` names it in log lines. Returns the socket or why it failed
  // ("bind /x/notify/db.sock: Permission denied").
  static std::variant<std::unique_ptr<NotifySocket>, std::string>
  open(uv_loop_t* loop, std::string path, std::string service, Handler handler,
       const std::optional<SocketOwner>& owner = std::nullopt);
  // Stops watching, closes the socket and removes its file.
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  [[nodiscard]] const std::string& path() const { return m_path; }
  // Datagrams dropped so far because they were too long.
  [[nodiscard]] size_t dropped() const { return m_dropped; }

private:
  NotifySocket(std::string path, std::string service, Handler handler, os::UniqueFd fd,
               uv_loop_t* loop);
  void on_readable();
  // Reads one datagram; false when there is nothing more to read now.
  bool receive_one();

  std::string m_path;
  std::string m_service;
  Handler m_handler;
  os::UniqueFd m_fd;
  uv::Poll m_poll; // after m_fd: destroyed (and so stopped) before the descriptor closes
  size_t m_dropped = 0;
};

} // namespace luvsup::readiness
