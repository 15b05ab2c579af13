#include "runbook/http_request.hpp"

#include "http/http_client.hpp"
#include "runbook/owned_op.hpp"

#include <fmt/format.h>

namespace luvsup::runbook {

std::unique_ptr<PendingOp> start_http(http::HttpClient& client, health::HttpRequestSpec spec,
                                      HttpDone done) {
  spec.keep_headers = true;
  spec.max_body = k_max_response_body;
  auto request = client.request(spec, [done = std::move(done)](health::ProbeResult result) {
    HttpResponse response;
    if (!result.ok) {
      response.error = std::move(result.error);
    } else {
      response.status = result.status;
      response.body = std::move(result.output);
      response.headers = std::move(result.headers);
    }
    done(std::move(response));
  });
  return std::make_unique<OwnedOp<health::PendingProbe>>(std::move(request));
}

std::unique_ptr<PendingOp> start_notify(http::HttpClient& client, const std::string& url,
                                        std::string payload, double timeout,
                                        std::function<void(std::string error)> done) {
  health::HttpRequestSpec spec;
  spec.url = url;
  spec.method = "POST";
  spec.body = std::move(payload);
  spec.timeout = timeout;
  spec.headers = {{"Content-Type", "application/json"}};
  return start_http(client, std::move(spec), [done = std::move(done)](HttpResponse response) {
    if (!response.error.empty()) {
      done(std::move(response.error));
    } else if (response.status < 200 || response.status > 299) {
      done(fmt::format("webhook answered {}", response.status));
    } else {
      done("");
    }
  });
}

} // namespace luvsup::runbook
