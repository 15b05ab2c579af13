// The HTTP engine: HTTP(S) requests on a libuv loop. Plain http:// to an IP
// address or localhost, what local health probes ask for, is sent by the
// direct engine (direct_request.hpp): a connection of its own per request,
// no libcurl. Everything else goes through libcurl's multi-socket interface
// (see curl_multi.hpp for how the loop drives curl).
//
// One HttpClient serves every HTTP probe of a loop. libcurl is loaded on the
// first request that needs it (curl_library.hpp), so a stack whose probes
// are all direct never maps it. Its connections are reused through the multi
// handle's connection cache and easy handles are recycled, so a request
// costs few allocations.
//
// A request's `done` runs exactly once, from a libuv callback: never inline in
// request(), never from inside a curl callback. Destroying the handle request()
// returned cancels the request; `done` is not called after that. `done` may
// start requests, cancel other requests and destroy the client.
//
// ProbeResult of a request: ok when an HTTP response arrived (whatever its
// status); status is the response code (0 without a response); output the
// body, capped at spec.max_body (the rest is read and discarded); latency in
// seconds; error a short message when no response arrived ("connection
// refused", "the server closed the connection without answering", "timed
// out after 1s", "TLS: certificate verify failed (...)",
// "could not resolve host", "invalid HTTP response: ...", or curl's own
// text); timed_out when the request
// ran past spec.timeout (a timeout of 0 or less means none). Redirects are reported, not followed.
// Proxies named in the environment are ignored.
#pragma once

#include "health/probe.hpp"
#include "http/curl_library.hpp"
#include "http/curl_multi.hpp"
#include "http/direct_engine.hpp"
#include "uv/handle.hpp"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace luvsup::http {

class HttpClient final : private CurlMulti::Listener {
public:
  enum class Engines {
    direct_and_curl, // direct where it can, libcurl for the rest
    curl_only,       // every request through libcurl: tests compare the engines
  };

  // `soname` is the libcurl to load; tests name a missing one to see the error
  // every request then reports ("<soname> not found: install libcurl4").
  explicit HttpClient(uv_loop_t* loop, std::string soname = k_libcurl_soname,
                      Engines engines = Engines::direct_and_curl);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  // Cancels every request in flight (no `done` is called) and closes the
  // client's handles; handles returned by request() may outlive the client.
  ~HttpClient();

  // Starts a request; see the file comment for how `done` is called. When
  // `spec` is invalid, or it needs libcurl and libcurl cannot be loaded
  // (tried once per client), the request completes with the reason in `error`.
  std::unique_ptr<health::PendingProbe> request(const health::HttpRequestSpec& spec,
                                                health::ProbeDone done);

  // Whether libcurl has been loaded.
  [[nodiscard]] bool loaded() const { return m_curl != nullptr; }

private:
  class Request;

  bool load();
  CURL* take_easy();
  void recycle(CURL* easy);
  void link(Request& request);
  void unlink(Request& request);
  void push_completed(Request& request);
  void complete_now(Request& request, std::string error);
  void deliver_soon();
  void cancel(Request& request);
  // Calls `done` for the requests completed before it started, in order.
  void deliver();

  void on_transfer_done(CURL* easy, CURLcode code) override;
  void after_transfers_done() override;

  uv_loop_t* m_loop;
  std::string m_soname;
  Engines m_engines;
  const CurlLibrary* m_curl = nullptr;
  std::string m_load_error;
  std::unique_ptr<CurlMulti> m_multi;
  std::unique_ptr<DirectEngine> m_direct_engine; // made by the first direct request
  std::vector<CURL*> m_spare_easy;
  Request* m_requests = nullptr; // every request not yet delivered or cancelled
  std::deque<Request*> m_completed;
  uint64_t m_next_sequence = 0;
  uv::UvHandle<uv_idle_t> m_deliver_soon;
  // Points at a flag of the running deliver(), which a `done` that destroys
  // the client sets so that deliver() stops touching it.
  bool* m_destroyed = nullptr;
};

} // namespace luvsup::http
