// A libcurl multi handle driven by a libuv loop (the multi-socket interface).
//
// curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION: one uv_poll
// per socket) and when to call it back (CURLMOPT_TIMERFUNCTION: one uv_timer);
// the poll and timer callbacks call curl_multi_socket_action and then collect
// the finished transfers with curl_multi_info_read.
//
// The multi-socket contract, and how it is kept:
// - A uv_poll is stopped before curl closes its socket: curl reports
//   CURL_POLL_REMOVE first, and close_socket() (installed as every transfer's
//   CURLOPT_CLOSESOCKETFUNCTION) stops any watch still left on the descriptor
//   before it closes it, so libuv never watches a closed or reused descriptor.
// - curl_multi_socket_action is never called from inside a curl callback: the
//   socket and timer callbacks only record what curl wants (a 0 ms timeout
//   arms the uv_timer), and libcurl is driven only from libuv callbacks.
// - No user code runs inside curl: finished transfers are handed to the
//   Listener after curl_multi_socket_action has returned.
#pragma once

#include "http/curl_library.hpp"
#include "uv/handle.hpp"

#include <unordered_map>

namespace luvsup::http {

class CurlMulti {
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
  // closes every poll and the timer. Remove all easy handles first.
  ~CurlMulti();

  [[nodiscard]] bool valid() const { return m_multi != nullptr; }

  // Adds or removes a configured easy handle.
  CURLMcode add(CURL* easy);
  void remove(CURL* easy);

  // Installs close_socket as `easy`'s CURLOPT_CLOSESOCKETFUNCTION.
  void watch_socket_closes(CURL* easy);

private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static int close_socket(void* self, curl_socket_t fd);
  static void on_poll(uv_poll_t* poll, int status, int ready);
  static void on_timeout(uv_timer_t* timer);
  int watch(curl_socket_t fd, int what);
  // Runs curl for `fd` (or its timeouts), then reports the finished transfers.
  // `this` may be destroyed when it returns.
  void drive(curl_socket_t fd, int events);

  uv_loop_t* m_loop;
  const CurlLibrary& m_curl;
  Listener& m_listener;
  CURLM* m_multi;
  uv::UvHandle<uv_timer_t> m_timer;
  struct Watch {
    uv::UvHandle<uv_poll_t> poll;
    int events = 0; // UV_READABLE and UV_WRITABLE, as curl last asked
  };
  std::unordered_map<curl_socket_t, Watch> m_polls;
  // Set during curl_multi_cleanup, which may still ask to watch the cached
  // connections it is about to close: nothing new is watched then.
  bool m_closing = false;
};

} // namespace luvsup::http
