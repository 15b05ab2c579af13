#include "http/http_transfer.hpp"

#include "http/ascii_case.hpp"

#include <fmt/format.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cctype>
#include <cstring>

namespace luvsup::http {

namespace {

// RFC 9110 token characters: what a method or a header name may contain.
bool is_token(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

bool has_line_break(const std::string& text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos;
}

bool is_tls_error(CURLcode code) {
  switch (code) {
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
    return true;
  default:
    return false;
  }
}

// curl's message without the prefixes it puts before TLS library errors.
std::string tls_detail(std::string text) {
  for (std::string_view prefix : {"SSL certificate problem: ", "SSL: "}) {
    if (text.starts_with(prefix)) {
      return text.substr(prefix.size());
    }
  }
  return text;
}

} // namespace

HttpTransfer::HttpTransfer(const health::HttpRequestSpec& spec)
    : m_started_ns(uv_hrtime()), m_timeout(spec.timeout), m_max_body(spec.max_body),
      m_keep_headers(spec.keep_headers), m_body(spec.body) {}

HttpTransfer::~HttpTransfer() {
  if (m_headers != nullptr) {
    m_curl->slist_free_all(m_headers);
  }
}

std::string HttpTransfer::invalid_reason(const health::HttpRequestSpec& spec) {
  if (!starts_with_nocase(spec.url, "http://") && !starts_with_nocase(spec.url, "https://")) {
    return fmt::format("unsupported URL {:?}: use http:// or https://", spec.url);
  }
  // What libcurl would refuse as a malformed URL, checked here for both
  // engines: the direct one writes the URL's path into the request line.
  if (std::any_of(spec.url.begin(), spec.url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return fmt::format("invalid URL {:?}: no spaces or control characters (write a space as %20)", spec.url);
  }
  if (!is_token(spec.method)) {
    return fmt::format("invalid HTTP method {:?}", spec.method);
  }
  for (const auto& [name, value] : spec.headers) {
    if (!is_token(name) || has_line_break(value)) {
      return fmt::format("invalid HTTP header {:?}", name);
    }
  }
  return "";
}

std::string HttpTransfer::configure(const CurlLibrary& curl, CURL* easy,
                                    const health::HttpRequestSpec& spec) {
  m_curl = &curl;
  CURLcode failed = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    CURLcode code = curl.easy_setopt(easy, option, value);
    if (failed == CURLE_OK) {
      failed = code;
    }
  };
  set(CURLOPT_URL, spec.url.c_str());
  set(CURLOPT_ERRORBUFFER, m_error);
  set(CURLOPT_NOSIGNAL, 1L);
  // An http_proxy in luvsup's environment must not send local probes elsewhere.
  set(CURLOPT_PROXY, "");
  set(CURLOPT_NOPROXY, "*");
  if (spec.timeout > 0) {
    set(CURLOPT_TIMEOUT_MS, std::max(1L, static_cast<long>(std::ceil(spec.timeout * 1000.0))));
  }
  set(CURLOPT_SSL_VERIFYPEER, spec.tls_verify ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, spec.tls_verify ? 2L : 0L);
  set(CURLOPT_USERAGENT, "luvsup");
  set(CURLOPT_WRITEFUNCTION, &HttpTransfer::on_body);
  set(CURLOPT_WRITEDATA, this);
  set(CURLOPT_HEADERFUNCTION, &HttpTransfer::on_header);
  set(CURLOPT_HEADERDATA, this);

  const std::string method = upper(spec.method);
  if (method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (method == "POST" || !m_body.empty()) {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(m_body.size()));
    set(CURLOPT_POSTFIELDS, m_body.data());
  }
  if (method != "GET" && method != "HEAD" && method != "POST") {
    set(CURLOPT_CUSTOMREQUEST, method.c_str()); // curl copies strings it is given
  }

  bool has_expect = false;
  for (const auto& [name, value] : spec.headers) {
    has_expect = has_expect || upper(name) == "EXPECT";
    // "Name;" is how curl sends a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* grown = curl.slist_append(m_headers, line.c_str());
    if (grown == nullptr) {
      return "out of memory";
    }
    m_headers = grown;
  }
  if (!m_body.empty() && !has_expect) {
    // curl would wait up to a second for "100 Continue" before sending a body.
    curl_slist* grown = curl.slist_append(m_headers, "Expect:");
    if (grown == nullptr) {
      return "out of memory";
    }
    m_headers = grown;
  }
  if (m_headers != nullptr) {
    set(CURLOPT_HTTPHEADER, m_headers);
  }
  if (failed != CURLE_OK) {
    return fmt::format("cannot set up the request: {}", curl.easy_strerror(failed));
  }
  return "";
}

size_t HttpTransfer::on_body(char* data, size_t, size_t count, void* self) noexcept {
  auto* transfer = static_cast<HttpTransfer*>(self);
  std::string& output = transfer->m_result.output;
  size_t keep =
      std::min(count, transfer->m_max_body - std::min(transfer->m_max_body, output.size()));
  try {
    output.append(data, keep);
  } catch (...) {
    return 0; // out of memory: curl fails the transfer with a write error
  }
  return count; // the rest is discarded, but read, so the response completes
}

size_t HttpTransfer::on_header(char* data, size_t, size_t count, void* self) noexcept {
  auto* transfer = static_cast<HttpTransfer*>(self);
  transfer->m_header_bytes += count;
  if (transfer->m_header_bytes > k_max_header_bytes) {
    transfer->m_headers_too_large = true;
    return 0;
  }
  if (transfer->m_keep_headers) {
    try {
      transfer->keep_header(std::string_view(data, count));
    } catch (...) {
      return 0; // out of memory: curl fails the transfer with a write error
    }
  }
  return count;
}

void HttpTransfer::keep_header(std::string_view line) {
  auto& headers = m_result.headers;
  if (line.starts_with("HTTP/")) {
    headers.clear(); // a new response (after "100 Continue"): its headers replace those before
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return; // the blank line that ends the headers, or a malformed one
  }
  auto trim = [](std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
      text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n' ||
                             text.back() == ' ' || text.back() == '\t')) {
      text.remove_suffix(1);
    }
    return text;
  };
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
}

void HttpTransfer::finish(const CurlLibrary& curl, CURL* easy, CURLcode code) {
  stop_clock();
  if (code == CURLE_OK) {
    long status = 0;
    curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    m_result.ok = true;
    m_result.status = static_cast<int>(status);
    return;
  }
  m_result.output.clear();
  m_result.headers.clear();
  m_result.timed_out = code == CURLE_OPERATION_TIMEDOUT;
  m_result.error = describe_failure(curl, easy, code);
}

void HttpTransfer::stop_clock() {
  m_result.latency = static_cast<double>(uv_hrtime() - m_started_ns) / 1e9;
}

std::string HttpTransfer::describe_failure(const CurlLibrary& curl, CURL* easy,
                                           CURLcode code) const {
  std::string text = m_error[0] != '\0' ? std::string(m_error) : curl.easy_strerror(code);
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT:
    return timed_out_text(m_timeout);
  case CURLE_COULDNT_RESOLVE_HOST:
    return "could not resolve host";
  case CURLE_COULDNT_CONNECT: {
    long os_errno = 0;
    curl.easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno == ECONNREFUSED) {
      return "connection refused";
    }
    if (os_errno != 0) {
      return fmt::format("could not connect: {}", std::strerror(static_cast<int>(os_errno)));
    }
    return text;
  }
  case CURLE_GOT_NOTHING:
    return k_closed_without_answer;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR: {
    // A reset is the same event as a close without an answer, seen a moment
    // later: one text, so that a warning about a lasting failure is logged once.
    long os_errno = 0;
    curl.easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno == ECONNRESET || os_errno == EPIPE) {
      return k_closed_without_answer;
    }
    return text;
  }
  case CURLE_PEER_FAILED_VERIFICATION:
    return fmt::format("TLS: certificate verify failed ({})", tls_detail(text));
  case CURLE_WRITE_ERROR:
    if (m_headers_too_large) {
      return headers_too_large_text();
    }
    return text;
  default:
    return is_tls_error(code) ? "TLS: " + tls_detail(text) : text;
  }
}

} // namespace luvsup::http
