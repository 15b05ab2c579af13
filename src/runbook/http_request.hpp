// The HTTP requests of runbooks (http.get, http.post, notify) on luvsup's one
// HTTP engine (http::HttpClient, the health probes' own), as PendingOps.
#pragma once

#include "health/probe.hpp"
#include "runbook/waiting_call.hpp"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace luvsup::http {
class HttpClient;
}

namespace luvsup::runbook {

// Response bytes a runbook gets at most; the rest is read and discarded.
inline constexpr size_t k_max_response_body = 1024 * 1024;

struct HttpResponse {
  std::string error; // no response: "connection refused", "timed out after 2s", ...
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // names lowercased
};

using HttpDone = std::function<void(HttpResponse)>;

// Sends `spec` (its response headers kept, its body capped at
// k_max_response_body). `done` is called once from a loop callback, never
// after the returned operation is destroyed (which aborts the transfer).
std::unique_ptr<PendingOp> start_http(http::HttpClient& client, health::HttpRequestSpec spec,
                                      HttpDone done);

// Posts `payload` (JSON) to `url` for notify; `done("")` on a 2xx answer,
// else `done` with why not ("webhook answered 404", "connection refused").
std::unique_ptr<PendingOp> start_notify(http::HttpClient& client, const std::string& url,
                                        std::string payload, double timeout,
                                        std::function<void(std::string error)> done);

} // namespace luvsup::runbook
