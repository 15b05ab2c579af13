#include "uv/poll.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace luvsup::uv {

Poll::Poll(uv_loop_t* loop, int fd) {
  m_error = uv_poll_init(loop, m_handle.get(), fd);
  if (m_error == 0) {
    m_handle.mark_initialised();
    m_handle->data = this;
  }
}

int Poll::start_reading(std::function<void(int status)> fn) {
  if (!ok()) {
    return m_error;
  }
  m_fn = std::move(fn);
  m_handle->data = this;
  return uv_poll_start(m_handle.get(), UV_READABLE, [](uv_poll_t* handle, int status, int) {
    auto* self = static_cast<Poll*>(handle->data);
    if (self == nullptr || !self->m_fn) {
      return;
    }
    // Copy first: the callback may destroy this watcher.
    auto callback = self->m_fn;
    try {
      callback(status);
    } catch (const std::exception& e) {
      spdlog::error("readiness watcher failed: {}", e.what());
    }
  });
}

void Poll::stop() {
  if (ok()) {
    uv_poll_stop(m_handle.get());
  }
}

} // namespace luvsup::uv
