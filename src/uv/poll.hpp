// A libuv poll watcher on a descriptor luvsup owns, calling a std::function.
//
// libuv's uv_udp cannot receive AF_UNIX datagrams and its streams cannot carry
// credentials, so the readiness channels watch their descriptors with uv_poll
// and do the I/O themselves. The descriptor stays owned by the caller, who
// must destroy the Poll before closing it (uv_close stops polling at once).
#pragma once

#include "uv/handle.hpp"

#include <functional>

namespace luvsup::uv {

class Poll {
public:
  // Watches `fd` (which must stay open while this object lives). Returns
  // without watching when libuv refuses the descriptor: check ok().
  Poll(uv_loop_t* loop, int fd);
  Poll(const Poll&) = delete;
  Poll& operator=(const Poll&) = delete;

  [[nodiscard]] bool ok() const { return m_handle.initialised(); }
  // The libuv error of the constructor, 0 when ok().
  [[nodiscard]] int error() const { return m_error; }

  // Calls `fn` whenever `fd` is readable (UV_READABLE) or in error (status
  // < 0). The callback may destroy this object. Returns the libuv error or 0.
  int start_reading(std::function<void(int status)> fn);
  void stop();

private:
  UvHandle<uv_poll_t> m_handle;
  std::function<void(int status)> m_fn;
  int m_error = 0;
};

} // namespace luvsup::uv
