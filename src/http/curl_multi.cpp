#include "http/curl_multi.hpp"

#include <unistd.h>

namespace luvsup::http {

namespace {
// Idle connections the multi handle keeps for reuse. curl's default (four per
// transfer in flight) would close most of them between two rounds of probes,
// when hundreds of services are each probed every few seconds.
constexpr long k_max_cached_connections = 512;
} // namespace

CurlMulti::CurlMulti(uv_loop_t* loop, const CurlLibrary& curl, Listener& listener)
    : m_curl(curl), m_listener(listener), m_sockets(loop, *this), m_multi(curl.multi_init()) {
  uv_timer_init(loop, m_timer.get());
  m_timer.mark_initialised();
  m_timer->data = this;
  if (m_multi != nullptr) {
    m_curl.multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    m_curl.multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    m_curl.multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    m_curl.multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    m_curl.multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, k_max_cached_connections);
  }
}

CurlMulti::~CurlMulti() {
  m_closing = true;
  if (m_multi != nullptr) {
    m_curl.multi_cleanup(m_multi); // calls on_socket, on_timer and close_socket
  }
}

CURLMcode CurlMulti::add(CURL* easy) {
  return m_curl.multi_add_handle(m_multi, easy);
}

void CurlMulti::remove(CURL* easy) {
  m_curl.multi_remove_handle(m_multi, easy);
}

void CurlMulti::watch_socket_closes(CURL* easy) {
  m_curl.easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::close_socket);
  m_curl.easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

int CurlMulti::on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  return static_cast<CurlMulti*>(self)->watch(fd, what);
}

int CurlMulti::watch(curl_socket_t fd, int what) {
  if (what == CURL_POLL_REMOVE) {
    m_sockets.remove(fd); // before curl closes fd
    return 0;
  }
  if (m_closing) {
    return 0;
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
    events |= UV_READABLE;
  }
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
    events |= UV_WRITABLE;
  }
  return m_sockets.watch(fd, events) == 0 ? 0 : -1; // -1: curl fails the transfer
}

void CurlMulti::on_socket_ready(int fd, int events) {
  // An error or hang-up comes as both (see SocketSet): curl learns why by
  // reading and writing, as it does with its own poll. For a reused
  // connection that died before any answer it then retries the request on a
  // fresh one, where CURL_CSELECT_ERR would fail the probe.
  const int flags = ((events & UV_READABLE) != 0 ? CURL_CSELECT_IN : 0) |
                    ((events & UV_WRITABLE) != 0 ? CURL_CSELECT_OUT : 0);
  int running = 0;
  m_curl.multi_socket_action(m_multi, fd, flags, &running);
}

void CurlMulti::after_sockets_ready() {
  collect(); // may destroy this
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self) {
  auto* multi = static_cast<CurlMulti*>(self);
  if (timeout_ms < 0) {
    uv_timer_stop(multi->m_timer.get());
    return 0;
  }
  // Even a 0 ms timeout goes through the loop: calling curl_multi_socket_action
  // from here would re-enter curl.
  uv_timer_start(multi->m_timer.get(), &CurlMulti::on_timeout, static_cast<uint64_t>(timeout_ms),
                 0);
  return 0;
}

void CurlMulti::on_timeout(uv_timer_t* timer) {
  if (auto* self = static_cast<CurlMulti*>(timer->data)) {
    int running = 0;
    self->m_curl.multi_socket_action(self->m_multi, CURL_SOCKET_TIMEOUT, 0, &running);
    self->collect(); // may destroy self
  }
}

int CurlMulti::close_socket(void* self, curl_socket_t fd) {
  static_cast<CurlMulti*>(self)->m_sockets.remove(fd);
  return ::close(fd);
}

void CurlMulti::collect() {
  int queued = 0;
  while (CURLMsg* message = m_curl.multi_info_read(m_multi, &queued)) {
    if (message->msg == CURLMSG_DONE) {
      // Read the message before the listener removes the handle, which frees it.
      CURL* easy = message->easy_handle;
      CURLcode code = message->data.result;
      m_listener.on_transfer_done(easy, code);
    }
  }
  m_listener.after_transfers_done();
}

} // namespace luvsup::http
