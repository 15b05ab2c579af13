#include "uv/timer.hpp"

#include <cmath>

namespace luvsup::uv {

namespace {
uint64_t to_ms(double seconds) {
  if (!(seconds > 0)) {
    return 0;
  }
  return static_cast<uint64_t>(std::ceil(seconds * 1000.0));
}
}  // namespace

Timer::Timer(uv_loop_t* loop) {
  uv_timer_init(loop, m_timer.get());
  m_timer.mark_initialised();
  m_timer->data = this;
}

void Timer::start(double delay_s, std::function<void()> fn, double repeat_s) {
  m_fn = std::move(fn);
  m_timer->data = this;
  uv_timer_start(
      m_timer.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Timer*>(t->data);
        if (self != nullptr && self->m_fn) {
          // Copy first: the callback may re-arm or destroy this timer.
          auto callback = self->m_fn;
          callback();
        }
      },
      to_ms(delay_s), to_ms(repeat_s));
}

void Timer::stop() { uv_timer_stop(m_timer.get()); }

bool Timer::active() const { return uv_is_active(m_timer.as_handle()) != 0; }

void Timer::unref() { uv_unref(m_timer.as_handle()); }

}  // namespace luvsup::uv
