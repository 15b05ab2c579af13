#include "uv/tcp_connect.hpp"

namespace luvsup::uv {

TcpConnect::TcpConnect(uv_loop_t* loop) : m_block(new Block{}) { // freed in the close callback
  uv_tcp_init(loop, &m_block->tcp);
  m_block->tcp.data = m_block;
  m_block->req.data = m_block;
}

TcpConnect::~TcpConnect() {
  m_block->done = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&m_block->tcp),
           [](uv_handle_t* h) { delete static_cast<Block*>(h->data); });
}

int TcpConnect::start(const sockaddr* addr, std::function<void(int status)> done) {
  m_block->done = std::move(done);
  const int rc =
      uv_tcp_connect(&m_block->req, &m_block->tcp, addr, [](uv_connect_t* req, int status) {
        auto* block = static_cast<Block*>(req->data);
        if (block->done) {
          auto callback = std::move(block->done); // the callback may destroy the owner
          block->done = nullptr;
          callback(status);
        }
      });
  if (rc != 0) {
    m_block->done = nullptr;
  }
  return rc;
}

} // namespace luvsup::uv
