// A timer made on its first start. Most services never back off, time out,
// wait on a dependency or poll for leftovers, and a libuv timer held for
// each of those would cost every service memory for nothing (about 0.8 KiB
// for the four a service has).
#pragma once

#include "core/platform.hpp"

#include <functional>
#include <memory>

namespace luvsup::core {

class LazyTimer {
public:
  explicit LazyTimer(Platform& platform) : m_platform(&platform) {}

  // As Timer::start; the timer is made the first time.
  void start(double delay, std::function<void()> fn) {
    if (!m_timer) {
      m_timer = m_platform->make_timer();
    }
    m_timer->start(delay, std::move(fn));
  }
  void stop() {
    if (m_timer) {
      m_timer->stop();
    }
  }

private:
  Platform* m_platform;
  std::unique_ptr<Timer> m_timer;
};

} // namespace luvsup::core
