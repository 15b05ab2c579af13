// Runbooks' HTTP requests (http.get, http.post, notify) on the real HTTP
// engine against tests/helpers/http_test_server.py.
#include "runbook/http_request.hpp"
#include "runbook/webhook_payload.hpp"
#include "test_http_support.hpp"

#include <nlohmann/json.hpp>

#include <optional>

using namespace luvsup;
using namespace luvsup::http::test;

namespace {

runbook::HttpResponse send(TestLoop& loop, http::HttpClient& client,
                           const health::HttpRequestSpec& spec) {
  std::optional<runbook::HttpResponse> response;
  auto op = runbook::start_http(client, spec, [&](runbook::HttpResponse r) { response = r; });
  CHECK_FALSE(response.has_value());
  REQUIRE(loop.run_until([&] { return response.has_value(); }));
  return *response;
}

std::string notify(TestLoop& loop, http::HttpClient& client, const std::string& url,
                   const std::string& payload, double timeout = 30) {
  std::optional<std::string> error;
  auto op = runbook::start_notify(client, url, payload, timeout,
                                  [&](std::string e) { error = std::move(e); });
  REQUIRE(loop.run_until([&] { return error.has_value(); }));
  return *error;
}

std::string header(const runbook::HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) {
      return value;
    }
  }
  return "(none)";
}

} // namespace

TEST_CASE("a runbook GET gets the status, the body and the headers with lowercased names") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  auto& server = TestServer::get();
  auto ok = send(loop, client, spec_for(server.url("/ok")));
  CHECK(ok.error.empty());
  CHECK(ok.status == 200);
  CHECK(ok.body == "hello");
  CHECK(header(ok, "content-length") == "5");
  auto moved = send(loop, client, spec_for(server.url("/redirect")));
  CHECK(moved.status == 302);
  CHECK(header(moved, "location") == "/ok");
  auto missing = send(loop, client, spec_for(server.url("/status/404")));
  CHECK(missing.error.empty());
  CHECK(missing.status == 404);
}

TEST_CASE("a runbook POST sends its body and headers") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  auto spec = spec_for(TestServer::get().url("/echo"));
  spec.method = "POST";
  spec.body = "a=1&b=2";
  spec.headers = {{"X-Runbook", "yes"}, {"Content-Type", "text/plain"}};
  auto echo = send(loop, client, spec);
  CHECK(echo.status == 200);
  CHECK(echo.body.find("method: POST") != std::string::npos);
  CHECK(echo.body.find("header x-runbook: yes") != std::string::npos);
  CHECK(echo.body.find("header content-type: text/plain") != std::string::npos);
  CHECK(echo.body.find("body: a=1&b=2") != std::string::npos);
}

TEST_CASE("a runbook request keeps 1 MiB of the body") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  auto big = send(loop, client, spec_for(TestServer::get().url("/big?bytes=1200000")));
  CHECK(big.status == 200);
  CHECK(big.body.size() == runbook::k_max_response_body);
}

TEST_CASE("a runbook request that gets no answer reports why") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  RefusingPort refusing;
  auto refused = send(loop, client, spec_for(refusing.url()));
  CHECK(refused.error == "connection refused");
  CHECK(refused.status == 0);
  auto hung = send(loop, client, spec_for(TestServer::get().url("/hang"), 0.3));
  CHECK(hung.error == "timed out after 0.3s");
}

TEST_CASE("health probes do not collect response headers") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/ok")));
  CHECK(result.ok);
  CHECK(result.headers.empty());
}

TEST_CASE("notify posts its JSON to the webhook, which receives text, content and fields") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  auto& server = TestServer::get();
  nlohmann::json fields = {{"host", "db1"}, {"restarts", 3}};
  const std::string payload = runbook::webhook_payload("web is down", fields);
  CHECK(notify(loop, client, server.url("/webhook/a"), payload) == "");
  auto kept = send(loop, client, spec_for(server.url("/received/a")));
  REQUIRE(kept.status == 200);
  auto received = nlohmann::json::parse(kept.body);
  CHECK(received["content_type"] == "application/json");
  auto body = nlohmann::json::parse(received["body"].get<std::string>());
  CHECK(body["text"] == "web is down\nhost: db1\nrestarts: 3");
  CHECK(body["content"] == body["text"]);
  CHECK(body["fields"] == fields);
}

TEST_CASE("notify reports a webhook that does not answer 2xx, or does not answer") {
  TestLoop loop;
  http::HttpClient client(loop.get());
  CHECK(notify(loop, client, TestServer::get().url("/status/500"), "{}") == "webhook answered 500");
  RefusingPort refusing;
  CHECK(notify(loop, client, refusing.url(), "{}") == "connection refused");
}

TEST_CASE("a webhook payload cuts Discord's content at 2000 characters, not inside one") {
  std::string text;
  for (int i = 0; i < 1500; ++i) {
    text += "é"; // two bytes each
  }
  auto body = nlohmann::json::parse(runbook::webhook_payload(text, nullptr));
  CHECK(body["text"] == text);
  CHECK(body["content"].get<std::string>().size() == 2 * 1500);
  text += text;
  body = nlohmann::json::parse(runbook::webhook_payload(text, nullptr));
  CHECK(body["content"].get<std::string>() == text.substr(0, 2 * runbook::k_discord_content_limit));
  CHECK(body["fields"] == nlohmann::json::object());
}
