// A libcurl multi handle driven by a libuv loop (the multi-socket interface).
//
// curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: they go into
// one SocketSet, an epoll set watched by a single uv_poll) and when to call it
// back (CURLMOPT_TIMERFUNCTION: one uv_timer); the socket set and the timer
// call curl_multi_socket_action and then collect the finished transfers with
// curl_multi_info_read.
//
// The multi-socket contract, and how it is kept:
// - A socket's watch is stopped before curl closes it: curl reports
//   CURL_POLL_REMOVE first, and close_socket() (installed as every transfer's
//   CURLOPT_CLOSESOCKETFUNCTION) removes any watch still left on the
//   descriptor before it closes it, so nothing watches a closed or reused
//   descriptor.
// - curl_multi_socket_action is never called from inside a curl callback: the
//   socket and timer callbacks only record what curl wants (a 0 ms timeout
//   arms the uv_timer), and libcurl is driven only from libuv callbacks.
// - No user code runs inside curl: finished transfers are handed to the
//   Listener after curl_multi_socket_action has returned.
#pragma once

#include "http/curl_library.hpp"
#include "http/socket_set.hpp"
#include "uv/handle.hpp"

namespace luvsup::http {

class CurlMulti final : private SocketSet::Listener {
public:
  // Told about finished transfers, from libuv callbacks only.
  class Listener {
  public:
    // `easy` finished with `code`. Called once per transfer, while the multi
    // handle collects results: remove `easy` (remove()) but run no user code.
    virtual void on_transfer_done(CURL* easy, CURLcode code) = 0;
    // Every finished transfer of this pass has been reported. The listener may
    // run user code now, and may destroy this CurlMulti.
    virtual void after_transfers_done() = 0;

  protected:
    ~Listener() = default;
  };

  // Creates the multi handle; valid() says whether curl could.
  CurlMulti(uv_loop_t* loop, const CurlLibrary& curl, Listener& listener);
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  // Cleans up the multi handle (which closes its cached connections) and
  // closes the socket set and the timer. Remove all easy handles first.
  ~CurlMulti();

  [[nodiscard]] bool valid() const { return m_multi != nullptr && m_sockets.valid(); }

  // Adds or removes a configured easy handle.
  CURLMcode add(CURL* easy);
  void remove(CURL* easy);

  // Installs close_socket as `easy`'s CURLOPT_CLOSESOCKETFUNCTION.
  void watch_socket_closes(CURL* easy);

private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static int close_socket(void* self, curl_socket_t fd);
  static void on_timeout(uv_timer_t* timer);
  int watch(curl_socket_t fd, int what);
  void on_socket_ready(int fd, int events) override;
  void after_sockets_ready() override;
  // Reports the finished transfers. `this` may be destroyed when it returns.
  void collect();

  const CurlLibrary& m_curl;
  Listener& m_listener;
  SocketSet m_sockets; // declared before m_multi: curl_multi_cleanup still uses it
  CURLM* m_multi;
  uv::UvHandle<uv_timer_t> m_timer;
  // Set during curl_multi_cleanup, which may still ask to watch the cached
  // connections it is about to close: nothing new is watched then.
  bool m_closing = false;
};

} // namespace luvsup::http
