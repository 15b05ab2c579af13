// One HTTP(S) request as libcurl sees it: the easy handle's options, the
// response body and headers as they arrive, and the ProbeResult made of them.
//
// HttpClient owns the easy handle and the multi handle; an HttpTransfer holds
// what the easy handle points into (error buffer, header list, request body,
// response body), so it must outlive the easy handle's time in the multi handle.
#pragma once

#include "health/probe.hpp"
#include "http/curl_library.hpp"
#include "http/failure_text.hpp"

#include <cstdint>
#include <string_view>

namespace luvsup::http {

class HttpTransfer {
public:
  // Copies what the request needs from `spec`; starts the latency clock.
  explicit HttpTransfer(const health::HttpRequestSpec& spec);
  HttpTransfer(const HttpTransfer&) = delete;
  HttpTransfer& operator=(const HttpTransfer&) = delete;
  ~HttpTransfer();

  // Why `spec` cannot be sent by either engine (an unsupported URL scheme, a
  // URL with a space or a control character, a method that is not a token, a
  // header with a line break), or "" when it can.
  static std::string invalid_reason(const health::HttpRequestSpec& spec);

  // Sets `easy`'s options for `spec`: method, headers, body, timeout, TLS
  // verification, no proxy, no signals, and this transfer's callbacks.
  // Returns an error message, or "" on success.
  std::string configure(const CurlLibrary& curl, CURL* easy, const health::HttpRequestSpec& spec);

  // Fills the result from `easy`, which finished with `code`.
  void finish(const CurlLibrary& curl, CURL* easy, CURLcode code);

  health::ProbeResult& result() { return m_result; }

private:
  static size_t on_body(char* data, size_t size, size_t count, void* self) noexcept;
  static size_t on_header(char* data, size_t size, size_t count, void* self) noexcept;
  // Adds one response header line to the result (throws only on memory).
  void keep_header(std::string_view line);
  std::string describe_failure(const CurlLibrary& curl, CURL* easy, CURLcode code) const;
  void stop_clock();

  uint64_t m_started_ns;
  double m_timeout;
  size_t m_max_body;
  bool m_keep_headers;
  std::string m_body; // the request body: curl reads it in place
  const CurlLibrary* m_curl = nullptr;
  curl_slist* m_headers = nullptr;
  size_t m_header_bytes = 0;
  bool m_headers_too_large = false;
  char m_error[CURL_ERROR_SIZE] = {};
  health::ProbeResult m_result;
};

} // namespace luvsup::http
