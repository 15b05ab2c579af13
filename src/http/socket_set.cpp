#include "http/socket_set.hpp"

#include <sys/epoll.h>

#include <array>
#include <cerrno>

namespace luvsup::http {

namespace {

// Ready sockets taken from the epoll set per pass; more wait for the next
// pass, which comes at once (the set stays readable).
constexpr int k_events_per_pass = 128;

uint32_t epoll_events(int events) {
  return ((events & UV_READABLE) != 0 ? uint32_t{EPOLLIN} : 0) |
         ((events & UV_WRITABLE) != 0 ? uint32_t{EPOLLOUT} : 0);
}

} // namespace

SocketSet::SocketSet(uv_loop_t* loop, Listener& listener)
    : m_loop(loop), m_listener(listener), m_epoll(epoll_create1(EPOLL_CLOEXEC)) {
  if (m_epoll && uv_poll_init(loop, m_poll.get(), m_epoll.get()) == 0) {
    m_poll.mark_initialised();
    m_poll->data = this;
  }
  uv_timer_init(loop, m_pause.get());
  m_pause.mark_initialised();
  m_pause->data = this;
}

int SocketSet::watch(int fd, int events) {
  if (fd < 0 || !valid()) {
    return -EBADF;
  }
  const auto wanted = static_cast<unsigned char>(events & (UV_READABLE | UV_WRITABLE));
  if (wanted == 0) {
    remove(fd);
    return 0;
  }
  if (static_cast<size_t>(fd) >= m_events.size()) {
    m_events.resize(static_cast<size_t>(fd) + 1, 0);
  }
  const unsigned char before = m_events[fd];
  if (before == wanted) {
    return 0;
  }
  epoll_event event{};
  event.events = epoll_events(wanted);
  event.data.fd = fd;
  if (epoll_ctl(m_epoll.get(), before == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event) != 0) {
    return -errno;
  }
  m_events[fd] = wanted;
  if (before == 0) {
    set_count(m_count + 1);
  }
  return 0;
}

void SocketSet::remove(int fd) {
  if (!watched(fd)) {
    return;
  }
  epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
  m_events[fd] = 0;
  set_count(m_count - 1);
}

void SocketSet::set_count(size_t count) {
  if (count > 0 && m_count == 0 && !m_pausing) {
    uv_poll_start(m_poll.get(), UV_READABLE, &SocketSet::on_poll);
  } else if (count == 0 && m_count > 0) {
    // An idle client keeps no watch and no timer on the loop.
    uv_poll_stop(m_poll.get());
    uv_timer_stop(m_pause.get());
    m_pausing = false;
  }
  m_count = count;
}

void SocketSet::on_pause_end(uv_timer_t* timer) {
  auto* self = static_cast<SocketSet*>(timer->data);
  if (self == nullptr) {
    return;
  }
  self->m_pausing = false;
  if (self->m_count > 0) {
    uv_poll_start(self->m_poll.get(), UV_READABLE, &SocketSet::on_poll);
    self->dispatch(); // what became ready during the pause, without waiting for the loop's next turn
  }
}

void SocketSet::on_poll(uv_poll_t* poll, int, int) {
  // An error on the epoll descriptor itself shows in epoll_wait: dispatch anyway.
  if (auto* self = static_cast<SocketSet*>(poll->data)) {
    self->dispatch();
  }
}

void SocketSet::dispatch() {
  std::array<epoll_event, k_events_per_pass> ready{};
  const int count = epoll_wait(m_epoll.get(), ready.data(), k_events_per_pass, 0);
  if (count > 0 && m_count >= k_busy_sockets) {
    m_pausing = true;
    uv_poll_stop(m_poll.get());
    uv_timer_start(m_pause.get(), &SocketSet::on_pause_end, k_coalesce_ms, 0);
  }
  for (int i = 0; i < count; ++i) {
    const int fd = ready[i].data.fd;
    if (!watched(fd)) {
      continue; // removed by an earlier report of this pass
    }
    const uint32_t got = ready[i].events;
    int events = 0;
    if ((got & (EPOLLERR | EPOLLHUP)) != 0) {
      events = UV_READABLE | UV_WRITABLE;
    } else {
      events = ((got & EPOLLIN) != 0 ? UV_READABLE : 0) | ((got & EPOLLOUT) != 0 ? UV_WRITABLE : 0);
    }
    m_listener.on_socket_ready(fd, events);
  }
  m_listener.after_sockets_ready(); // may destroy this set
}

} // namespace luvsup::http
