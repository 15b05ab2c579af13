// A libuv signal watcher that calls a std::function.
#pragma once

#include "uv/handle.hpp"

#include <functional>

namespace luvsup::uv {

class Signal {
public:
  Signal(uv_loop_t* loop, int signum, std::function<void()> fn);
  // Keeps the loop from waiting on this watcher alone.
  void unref();

private:
  UvHandle<uv_signal_t> m_signal;
  std::function<void()> m_fn;
};

}  // namespace luvsup::uv
