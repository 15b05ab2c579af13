// One outgoing TCP connection attempt, owned RAII-style.
//
// A libuv connect request must stay valid until its callback has run, which
// after uv_close happens (with UV_ECANCELED) before the handle's close
// callback. So the handle and the request live in one heap block freed in the
// close callback, and the owner may go away at any time: its callback is
// then never called.
#pragma once

#include <uv.h>

#include <functional>

namespace luvsup::uv {

class TcpConnect {
public:
  explicit TcpConnect(uv_loop_t* loop);
  ~TcpConnect();
  TcpConnect(const TcpConnect&) = delete;
  TcpConnect& operator=(const TcpConnect&) = delete;

  // Connects to `addr`; `done(status)` runs from the loop with 0 or a libuv
  // error. Returns a libuv error when the attempt could not even start (done
  // is then never called).
  int start(const sockaddr* addr, std::function<void(int status)> done);

private:
  struct Block {
    uv_tcp_t tcp;
    uv_connect_t req;
    std::function<void(int)> done;
  };
  Block* m_block;
};

} // namespace luvsup::uv
