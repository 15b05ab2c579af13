#include "http/direct_engine.hpp"

#include "http/direct_exchange.hpp"

namespace luvsup::http {

DirectEngine::DirectEngine(uv_loop_t* loop) : m_loop(loop), m_sockets(loop, *this) {}

int DirectEngine::watch(int fd, int events, DirectExchange& owner) {
  const int rc = m_sockets.watch(fd, events);
  if (rc == 0) {
    if (static_cast<size_t>(fd) >= m_owners.size()) {
      m_owners.resize(static_cast<size_t>(fd) + 1, nullptr);
    }
    m_owners[static_cast<size_t>(fd)] = &owner;
  }
  return rc;
}

void DirectEngine::remove(int fd) {
  m_sockets.remove(fd);
  if (fd >= 0 && static_cast<size_t>(fd) < m_owners.size()) {
    m_owners[static_cast<size_t>(fd)] = nullptr;
  }
}

void DirectEngine::on_socket_ready(int fd, int events) {
  if (fd >= 0 && static_cast<size_t>(fd) < m_owners.size()) {
    if (DirectExchange* owner = m_owners[static_cast<size_t>(fd)]) {
      owner->on_ready(events);
    }
  }
}

} // namespace luvsup::http
