// The sockets libcurl asks the loop to watch, in one epoll set of their own
// that a single uv_poll watches on the libuv loop.
//
// A uv_poll per socket costs a handle's init, start, stop and close (with its
// deferred close callback and heap block) for every short-lived connection,
// and libuv re-adds a descriptor to its epoll set each time the poll is
// restarted: about seven epoll_ctl calls, an ioctl and two allocations per
// probe against a server that closes its connections. Here a socket costs an
// epoll_ctl when curl first asks for it, one when it changes what it waits
// for, and one when it is removed, and the set's table is a flat array
// indexed by descriptor.
//
// Readiness is level-triggered, as with uv_poll: a socket that stays readable
// is reported again on the next pass.
//
// While many sockets are watched (k_busy_sockets: hundreds of probes in
// flight at once), a pass that reported something is followed by a pause of
// k_coalesce_ms before the set is looked at again, and everything that became
// ready meanwhile is handled in one wakeup. A server that answers probes one
// after the other otherwise wakes luvsup once or twice per probe, and on a
// virtual machine a wakeup costs about as much as the probe's own work. The
// price is at most k_coalesce_ms more latency for a probe that answers during
// a pause; with few sockets watched every event is handled at once. An error or hang-up is reported as
// readable and writable, so the owner learns what happened by reading and
// writing, as libcurl does with its own poll.
#pragma once

#include "os/unique_fd.hpp"
#include "uv/handle.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace luvsup::http {

// Sockets watched from which a pass is followed by a pause (see the file comment).
inline constexpr size_t k_busy_sockets = 16;
// How long the set is left alone after a pass while busy, in milliseconds.
inline constexpr uint64_t k_coalesce_ms = 5;

class SocketSet {
public:
  // Told which watched sockets are ready, from a libuv callback only.
  class Listener {
  public:
    // `fd` is ready for what `events` says (UV_READABLE and UV_WRITABLE).
    // May watch, change or remove any socket, this one included, but must
    // not destroy this SocketSet. A socket removed (or closed and reused)
    // earlier in the same pass may still be reported once: the listener
    // ignores a descriptor it does not know and copes with one that is not
    // ready after all.
    virtual void on_socket_ready(int fd, int events) = 0;
    // Every socket ready in this pass has been reported. The listener may
    // destroy this SocketSet now.
    virtual void after_sockets_ready() = 0;

  protected:
    ~Listener() = default;
  };

  // Creates the epoll set; valid() says whether the kernel could.
  SocketSet(uv_loop_t* loop, Listener& listener);
  SocketSet(const SocketSet&) = delete;
  SocketSet& operator=(const SocketSet&) = delete;
  // Closes the poll and the epoll set; the sockets stay open (they are the caller's).
  ~SocketSet() = default;

  [[nodiscard]] bool valid() const { return m_poll.initialised(); }

  // Watches `fd` for `events` (UV_READABLE, UV_WRITABLE or both), replacing
  // what it was watched for. Returns 0 or a negative errno.
  int watch(int fd, int events);
  // Stops watching `fd`; call it before `fd` is closed. Does nothing for a
  // descriptor that is not watched.
  void remove(int fd);
  // Whether the set is pausing after a busy pass (it looks again when the pause ends).
  [[nodiscard]] bool pausing() const { return m_pausing; }
  [[nodiscard]] bool watched(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < m_events.size() && m_events[fd] != 0;
  }

private:
  static void on_poll(uv_poll_t* poll, int status, int events);
  static void on_pause_end(uv_timer_t* timer);
  // Reports the ready sockets. `this` may be destroyed when it returns.
  void dispatch();
  void set_count(size_t count);

  uv_loop_t* m_loop;
  Listener& m_listener;
  os::UniqueFd m_epoll;
  // Declared after m_epoll: closed (uv_close stops it at once) before the
  // epoll descriptor it watches is closed.
  uv::UvHandle<uv_poll_t> m_poll;
  uv::UvHandle<uv_timer_t> m_pause;
  bool m_pausing = false; // m_poll is stopped until m_pause fires
  // What each descriptor is watched for, by descriptor; 0 when it is not.
  std::vector<unsigned char> m_events;
  size_t m_count = 0; // descriptors watched: the poll runs only while there are some
};

} // namespace luvsup::http
