// A one-shot or repeating libuv timer that calls a std::function.
#pragma once

#include "uv/handle.hpp"

#include <functional>

namespace luvsup::uv {

class Timer {
public:
  explicit Timer(uv_loop_t* loop);

  // Arms the timer to call `fn` after `delay_s` seconds, and then every
  // `repeat_s` seconds when repeat_s > 0. Re-arming replaces the callback.
  void start(double delay_s, std::function<void()> fn, double repeat_s = 0);
  void stop();
  [[nodiscard]] bool active() const;
  // Keeps the loop from waiting on this timer alone.
  void unref();

private:
  UvHandle<uv_timer_t> m_timer;
  std::function<void()> m_fn;
};

}  // namespace luvsup::uv
