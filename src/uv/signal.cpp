#include "uv/signal.hpp"

namespace luvsup::uv {

Signal::Signal(uv_loop_t* loop, int signum, std::function<void()> fn) : m_fn(std::move(fn)) {
  uv_signal_init(loop, m_signal.get());
  m_signal.mark_initialised();
  m_signal->data = this;
  uv_signal_start(
      m_signal.get(),
      [](uv_signal_t* handle, int) {
        auto* self = static_cast<Signal*>(handle->data);
        if (self != nullptr) {
          self->m_fn();
        }
      },
      signum);
}

void Signal::unref() { uv_unref(m_signal.as_handle()); }

}  // namespace luvsup::uv
