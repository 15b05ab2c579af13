#include "http/http_client.hpp"

#include "http/direct_exchange.hpp"
#include "http/http_transfer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace luvsup::http {

namespace {
// Easy handles kept for reuse after their transfer (about 20 KiB each): a
// probe schedule has few requests in flight at once, and an idle client
// should hold little memory.
constexpr size_t k_spare_easy_handles = 8;
} // namespace

// A request and the handle its caller holds: destroying it cancels.
class HttpClient::Request final : public health::PendingProbe {
public:
  Request(HttpClient& client, health::ProbeDone done)
      : m_client(&client), m_done(std::move(done)), m_started_ns(uv_hrtime()) {}
  ~Request() override {
    if (m_client != nullptr) {
      m_client->cancel(*this);
    }
  }

  HttpClient* m_client; // null once delivered, cancelled or the client is gone
  health::ProbeDone m_done;
  uint64_t m_started_ns;
  health::ProbeResult m_result;             // filled when the request completes
  std::optional<HttpTransfer> m_transfer;   // a request sent by libcurl
  std::unique_ptr<DirectExchange> m_exchange; // a request sent by the direct engine
  CURL* m_easy = nullptr;    // set while the transfer is in the multi handle
  bool m_completed = false;  // in m_completed, waiting for deliver()
  uint64_t m_sequence = 0;   // completion order, for deliver()
  Request* m_prev = nullptr; // links of HttpClient::m_requests
  Request* m_next = nullptr;
};

HttpClient::HttpClient(uv_loop_t* loop, std::string soname, Engines engines)
    : m_loop(loop), m_soname(std::move(soname)), m_engines(engines) {
  uv_idle_init(loop, m_deliver_soon.get());
  m_deliver_soon.mark_initialised();
  m_deliver_soon->data = this;
}

HttpClient::~HttpClient() {
  if (m_destroyed != nullptr) {
    *m_destroyed = true;
  }
  while (m_requests != nullptr) {
    Request& request = *m_requests;
    if (request.m_easy != nullptr) {
      m_multi->remove(request.m_easy);
      m_curl->easy_cleanup(request.m_easy);
      request.m_easy = nullptr;
    }
    request.m_exchange.reset();
    unlink(request);
  }
  m_completed.clear();
  m_direct_engine.reset();
  for (CURL* easy : m_spare_easy) {
    m_curl->easy_cleanup(easy);
  }
  m_multi.reset(); // closes the cached connections, the polls and the timer
}

std::unique_ptr<health::PendingProbe> HttpClient::request(const health::HttpRequestSpec& spec,
                                                          health::ProbeDone done) {
  auto request = std::make_unique<Request>(*this, std::move(done));
  link(*request);
  std::string error = HttpTransfer::invalid_reason(spec);
  if (!error.empty()) {
    complete_now(*request, std::move(error));
    return request;
  }
  if (m_engines == Engines::direct_and_curl) {
    if (auto target = direct_target(spec.url)) {
      Request* sent = request.get();
      if (m_direct_engine == nullptr) {
        m_direct_engine = std::make_unique<DirectEngine>(m_loop);
      }
      if (!m_direct_engine->valid()) {
        complete_now(*request, "cannot create an epoll set for HTTP requests");
        return request;
      }
      sent->m_exchange = std::make_unique<DirectExchange>(
          *m_direct_engine, std::move(*target), spec, [this, sent](health::ProbeResult result) {
            sent->m_result = std::move(result);
            push_completed(*sent);
            deliver_soon();
          });
      return request;
    }
  }
  if (!load()) {
    complete_now(*request, m_load_error);
    return request;
  }
  CURL* easy = take_easy();
  if (easy == nullptr) {
    complete_now(*request, "curl_easy_init failed");
    return request;
  }
  request->m_transfer.emplace(spec);
  error = request->m_transfer->configure(*m_curl, easy, spec);
  m_multi->watch_socket_closes(easy);
  m_curl->easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(request.get()));
  if (error.empty()) {
    CURLMcode code = m_multi->add(easy); // curl asks for a 0 ms timer: it starts there
    if (code != CURLM_OK) {
      error = fmt::format("curl: {}", m_curl->multi_strerror(code));
    }
  }
  if (!error.empty()) {
    recycle(easy);
    complete_now(*request, std::move(error));
    return request;
  }
  request->m_easy = easy;
  return request;
}

bool HttpClient::load() {
  if (m_multi != nullptr) {
    return true;
  }
  if (!m_load_error.empty()) {
    return false; // a failed dlopen is not retried for every probe
  }
  m_curl = load_curl_library(m_soname, m_load_error);
  if (m_curl == nullptr) {
    return false;
  }
  m_multi = std::make_unique<CurlMulti>(m_loop, *m_curl, static_cast<CurlMulti::Listener&>(*this));
  if (!m_multi->valid()) {
    m_multi.reset();
    m_load_error = "curl_multi_init failed";
    return false;
  }
  return true;
}

CURL* HttpClient::take_easy() {
  if (m_spare_easy.empty()) {
    return m_curl->easy_init();
  }
  CURL* easy = m_spare_easy.back();
  m_spare_easy.pop_back();
  return easy;
}

void HttpClient::recycle(CURL* easy) {
  if (m_spare_easy.size() < k_spare_easy_handles) {
    m_curl->easy_reset(easy);
    m_spare_easy.push_back(easy);
  } else {
    m_curl->easy_cleanup(easy);
  }
}

void HttpClient::link(Request& request) {
  request.m_next = m_requests;
  if (m_requests != nullptr) {
    m_requests->m_prev = &request;
  }
  m_requests = &request;
}

void HttpClient::unlink(Request& request) {
  if (request.m_prev != nullptr) {
    request.m_prev->m_next = request.m_next;
  } else {
    m_requests = request.m_next;
  }
  if (request.m_next != nullptr) {
    request.m_next->m_prev = request.m_prev;
  }
  request.m_prev = request.m_next = nullptr;
  request.m_client = nullptr;
}

void HttpClient::push_completed(Request& request) {
  request.m_completed = true;
  request.m_sequence = m_next_sequence++;
  m_completed.push_back(&request);
}

void HttpClient::complete_now(Request& request, std::string error) {
  request.m_result.error = std::move(error);
  request.m_result.latency = static_cast<double>(uv_hrtime() - request.m_started_ns) / 1e9;
  push_completed(request);
  deliver_soon();
}

void HttpClient::deliver_soon() {
  uv_idle_start(m_deliver_soon.get(), [](uv_idle_t* idle) {
    if (auto* self = static_cast<HttpClient*>(idle->data)) {
      self->deliver();
    }
  });
}

void HttpClient::cancel(Request& request) {
  if (request.m_easy != nullptr) {
    m_multi->remove(request.m_easy);
    recycle(request.m_easy);
    request.m_easy = nullptr;
  }
  request.m_exchange.reset();
  if (request.m_completed) {
    m_completed.erase(std::find(m_completed.begin(), m_completed.end(), &request));
  }
  unlink(request);
}

void HttpClient::on_transfer_done(CURL* easy, CURLcode code) {
  char* owner = nullptr;
  m_curl->easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
  auto* request = reinterpret_cast<Request*>(owner);
  request->m_transfer->finish(*m_curl, easy, code);
  request->m_result = std::move(request->m_transfer->result());
  m_multi->remove(easy);
  recycle(easy);
  request->m_easy = nullptr;
  push_completed(*request);
}

void HttpClient::after_transfers_done() {
  deliver();
}

void HttpClient::deliver() {
  bool destroyed = false;
  m_destroyed = &destroyed;
  // Requests that complete while this runs (a `done` that starts a request
  // which fails at once) wait for the next pass, so a retry loop cannot spin here.
  const uint64_t end = m_next_sequence;
  while (!m_completed.empty() && m_completed.front()->m_sequence < end) {
    Request& request = *m_completed.front();
    m_completed.pop_front();
    request.m_completed = false;
    request.m_exchange.reset(); // finished: its socket is closed, its timers go now
    unlink(request);
    // Moved out first: `done` may destroy the request (and the client).
    health::ProbeDone done = std::move(request.m_done);
    health::ProbeResult result = std::move(request.m_result);
    try {
      done(std::move(result));
    } catch (const std::exception& e) {
      spdlog::error("HTTP request callback failed: {}", e.what());
    } catch (...) {
      spdlog::error("HTTP request callback failed");
    }
    if (destroyed) {
      return;
    }
  }
  m_destroyed = nullptr;
  if (m_completed.empty()) {
    uv_idle_stop(m_deliver_soon.get());
  }
}

} // namespace luvsup::http
