// The sockets of the direct HTTP engine's requests (direct_exchange.hpp), in
// one SocketSet: an epoll set of their own, read in coalesced passes while
// many are in flight, as libcurl's sockets are (see socket_set.hpp). Here a
// request costs an epoll_ctl to add its socket, one when it turns from
// sending to reading and one to remove it.
#pragma once

#include "http/socket_set.hpp"

#include <vector>

namespace luvsup::http {

class DirectExchange;

class DirectEngine final : private SocketSet::Listener {
public:
  explicit DirectEngine(uv_loop_t* loop);
  DirectEngine(const DirectEngine&) = delete;
  DirectEngine& operator=(const DirectEngine&) = delete;
  // Exchanges must be gone before their engine.
  ~DirectEngine() = default;

  [[nodiscard]] uv_loop_t* loop() const { return m_loop; }
  [[nodiscard]] bool valid() const { return m_sockets.valid(); }

  // Watches `fd` of `owner` for `events` (UV_READABLE or UV_WRITABLE);
  // returns 0 or a negative errno.
  int watch(int fd, int events, DirectExchange& owner);
  // Stops watching `fd`; call it before `fd` is closed.
  void remove(int fd);

private:
  void on_socket_ready(int fd, int events) override;
  void after_sockets_ready() override {}

  uv_loop_t* m_loop;
  SocketSet m_sockets;
  std::vector<DirectExchange*> m_owners; // by descriptor; null when not watched
};

} // namespace luvsup::http
