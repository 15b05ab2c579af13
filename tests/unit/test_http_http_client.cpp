// The HTTP engine against a real local server (tests/helpers/http_test_server.py)
// on a real loop. Every test ends with uv_loop_close succeeding (TestLoop), so a
// handle the client leaves open fails it; ASan catches leaked requests.
#include "http/http_client.hpp"
#include "test_http_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <vector>

using luvsup::health::PendingProbe;
using luvsup::health::ProbeResult;
using luvsup::http::HttpClient;
using luvsup::http::k_libcurl_soname;
using luvsup::http::test::CannedServer;
using luvsup::http::test::CurlEngine;
using luvsup::http::test::DirectEngine;
using luvsup::http::test::fetch;
using luvsup::http::test::k_missing_curl;
using luvsup::http::test::Outcome;
using luvsup::http::test::RefusingPort;
using luvsup::http::test::spec_for;
using luvsup::http::test::TestLoop;
using luvsup::http::test::TestServer;

TEST_CASE("http: the test binary, linked like luvsup, does not link libcurl") {
  FILE* readelf = popen("readelf -d /proc/self/exe 2>&1", "r");
  REQUIRE(readelf != nullptr);
  std::string dynamic;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, readelf)) {
    dynamic.append(buf, n);
  }
  pclose(readelf);
  CHECK(dynamic.find("NEEDED") != std::string::npos); // readelf did read the binary
  CHECK(dynamic.find("libcurl") == std::string::npos);
}

TEST_CASE("http: libcurl is loaded by the first request that needs it, not by the client") {
  TestLoop loop;
  HttpClient client(loop.get());
  CHECK_FALSE(client.loaded());
  auto direct = fetch(loop, client, spec_for(TestServer::get().url("/ok")));
  CHECK(direct.ok);
  CHECK_FALSE(client.loaded()); // plain http:// to an address: the direct engine
  auto spec = spec_for(TestServer::get().tls_url("/ok"));
  spec.tls_verify = false;
  auto tls = fetch(loop, client, spec);
  CHECK(client.loaded());
  CHECK(tls.ok);
}

TEST_CASE_TEMPLATE("http: a 200 response reports ok, the status, the body and the latency", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/ok")));
  CHECK(result.ok);
  CHECK(result.status == 200);
  CHECK(result.output == "hello");
  CHECK(result.error.empty());
  CHECK_FALSE(result.timed_out);
  CHECK(result.latency > 0);
}

TEST_CASE_TEMPLATE("http: a 500 response is a response: ok with status 500 and its body", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/status/500")));
  CHECK(result.ok);
  CHECK(result.status == 500);
  CHECK(result.output == "status 500");
}

TEST_CASE_TEMPLATE("http: a redirect is reported with its 3xx status, not followed", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/redirect")));
  CHECK(result.ok);
  CHECK(result.status == 302);
  CHECK(result.output == "moved");
}

TEST_CASE_TEMPLATE("http: a body larger than max_body is cut at max_body and the response completes", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto spec = spec_for(TestServer::get().url("/big?bytes=300000"));
  spec.max_body = 1005;
  auto result = fetch(loop, client, spec);
  CHECK(result.ok);
  CHECK(result.status == 200);
  REQUIRE(result.output.size() == 1005);
  CHECK(result.output.substr(0, 12) == "012345678901");
  CHECK(result.output.substr(1000) == "01234");
}

TEST_CASE_TEMPLATE("http: response headers beyond the cap fail the request", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/big-headers")));
  CHECK_FALSE(result.ok);
  CHECK(result.error == "response headers larger than 64 KiB");
  CHECK(result.output.empty());
}

TEST_CASE_TEMPLATE("http: the method, headers and body of the spec reach the server", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto spec = spec_for(TestServer::get().url("/echo"));

  SUBCASE("POST with a body and headers") {
    spec.method = "POST";
    spec.body = "state=ready";
    spec.headers = {{"X-Probe", "luvsup test"}, {"Content-Type", "text/plain"}};
    auto result = fetch(loop, client, spec);
    CHECK(result.status == 200);
    CHECK(result.output.find("method: POST\n") != std::string::npos);
    CHECK(result.output.find("header x-probe: luvsup test\n") != std::string::npos);
    CHECK(result.output.find("header content-type: text/plain\n") != std::string::npos);
    CHECK(result.output.find("body: state=ready") != std::string::npos);
  }
  SUBCASE("a body over 1 MiB goes without waiting for \"100 Continue\"") {
    spec.method = "POST";
    spec.body = std::string(1100 * 1024, 'a');
    auto result = fetch(loop, client, spec);
    CHECK(result.status == 200);
    CHECK(result.output.find("header content-length: 1126400\n") != std::string::npos);
    CHECK(result.output.find("header expect") == std::string::npos);
    CHECK(result.output.find("body: aaaa") != std::string::npos);
  }
  SUBCASE("PUT with a body") {
    spec.method = "PUT";
    spec.body = "x";
    auto result = fetch(loop, client, spec);
    CHECK(result.output.find("method: PUT\n") != std::string::npos);
    CHECK(result.output.find("body: x") != std::string::npos);
  }
  SUBCASE("DELETE, named in lower case") {
    spec.method = "delete";
    auto result = fetch(loop, client, spec);
    CHECK(result.output.find("method: DELETE\n") != std::string::npos);
  }
  SUBCASE("GET sends no body and names luvsup as the user agent") {
    auto result = fetch(loop, client, spec);
    CHECK(result.output.find("method: GET\n") != std::string::npos);
    CHECK(result.output.find("header user-agent: luvsup\n") != std::string::npos);
    CHECK(result.output.find("header content-length") == std::string::npos);
  }
}

TEST_CASE_TEMPLATE("http: HEAD reports the status without a body", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto spec = spec_for(TestServer::get().url("/ok"));
  spec.method = "HEAD";
  auto result = fetch(loop, client, spec);
  CHECK(result.ok);
  CHECK(result.status == 200);
  CHECK(result.output.empty());
}

TEST_CASE_TEMPLATE("http: a closed port reports connection refused", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  RefusingPort refusing;
  auto result = fetch(loop, client, spec_for(refusing.url()));
  CHECK_FALSE(result.ok);
  CHECK(result.status == 0);
  CHECK(result.error == "connection refused");
  CHECK_FALSE(result.timed_out);
}

TEST_CASE_TEMPLATE("http: an endpoint that hangs past the timeout reports the timeout", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/hang"), 0.3));
  CHECK_FALSE(result.ok);
  CHECK(result.timed_out);
  CHECK(result.error == "timed out after 0.3s");
  CHECK(loop.run_until_idle()); // the timed-out connection is closed and unwatched
}

TEST_CASE_TEMPLATE("http: a listener that accepts and never answers times out", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  auto result = fetch(loop, client, spec_for(TestServer::get().silent_url(), 0.2));
  CHECK_FALSE(result.ok);
  CHECK(result.timed_out);
  CHECK(result.error == "timed out after 0.2s");
}

TEST_CASE("http: TLS with a self-signed certificate fails verification when tls_verify is on") {
  TestLoop loop;
  HttpClient client(loop.get());
  auto result = fetch(loop, client, spec_for(TestServer::get().tls_url("/ok")));
  CHECK_FALSE(result.ok);
  CHECK(result.error.starts_with("TLS: certificate verify failed"));
  CHECK(result.error.find("self-signed") != std::string::npos);
}

TEST_CASE("http: TLS with a self-signed certificate succeeds when tls_verify is off") {
  TestLoop loop;
  HttpClient client(loop.get());
  auto spec = spec_for(TestServer::get().tls_url("/ok"));
  spec.tls_verify = false;
  auto result = fetch(loop, client, spec);
  CHECK(result.ok);
  CHECK(result.status == 200);
  CHECK(result.output == "hello");
}

TEST_CASE("http: a host that does not resolve reports could not resolve host") {
  TestLoop loop;
  HttpClient client(loop.get());
  // .invalid never resolves (RFC 6761); the long timeout covers a slow resolver.
  auto result = fetch(loop, client, spec_for("http://luvsup-test.invalid/", 50));
  CHECK_FALSE(result.ok);
  CHECK(result.error == "could not resolve host");
}

TEST_CASE_TEMPLATE("http: an http_proxy in the environment is not used", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  RefusingPort proxy;
  setenv("http_proxy", proxy.url().c_str(), 1);
  setenv("HTTP_PROXY", proxy.url().c_str(), 1);
  auto result = fetch(loop, client, spec_for(TestServer::get().url("/ok")));
  unsetenv("http_proxy");
  unsetenv("HTTP_PROXY");
  CHECK(result.ok);
  CHECK(result.output == "hello");
}

TEST_CASE("http: an invalid spec fails with a reason, from the loop") {
  TestLoop loop;
  HttpClient client(loop.get());
  auto spec = spec_for(TestServer::get().url("/ok"));
  std::string expected;
  SUBCASE("another URL scheme") {
    spec.url = "file:///etc/passwd";
    expected = "unsupported URL \"file:///etc/passwd\": use http:// or https://";
  }
  SUBCASE("a URL with a line break or a space, which would end up in the request line") {
    spec.url = TestServer::get().url("/ok?x=1\r\nX-Injected: 1");
    expected = "invalid URL \"" + TestServer::get().url("/ok?x=1\\r\\nX-Injected: 1") +
               "\": no spaces or control characters (write a space as %20)";
  }
  SUBCASE("a method that is not a token") {
    spec.method = "GET /x";
    expected = "invalid HTTP method \"GET /x\"";
  }
  SUBCASE("a header value with a line break") {
    spec.headers = {{"X-A", "b\r\nX-Injected: 1"}};
    expected = "invalid HTTP header \"X-A\"";
  }
  auto result = fetch(loop, client, spec);
  CHECK_FALSE(result.ok);
  CHECK(result.error == expected);
  CHECK_FALSE(client.loaded()); // nothing was sent
}

TEST_CASE("http: a missing libcurl fails every request that needs it with a clear error") {
  TestLoop loop;
  HttpClient client(loop.get(), k_missing_curl);
  auto spec = spec_for(TestServer::get().tls_url("/ok"));
  for (int i = 0; i < 2; ++i) {
    auto result = fetch(loop, client, spec);
    CHECK_FALSE(result.ok);
    CHECK(result.error == std::string(k_missing_curl) + " not found: install libcurl4");
  }
  CHECK_FALSE(client.loaded());
  auto direct = fetch(loop, client, spec_for(TestServer::get().url("/ok")));
  CHECK(direct.ok); // the direct engine does not need it
}

TEST_CASE_TEMPLATE("http: destroying a request in flight cancels it and closes its socket", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  Outcome hung;
  auto hanging = client.request(spec_for(TestServer::get().url("/hang")), hung.record());
  // Once a later request has completed, the hanging one is under way.
  CHECK(fetch(loop, client, spec_for(TestServer::get().url("/ok"))).ok);
  hanging.reset();
  CHECK(loop.run_until_idle());
  CHECK(hung.calls == 0);
  CHECK(fetch(loop, client, spec_for(TestServer::get().url("/ok"))).output == "hello");
}

TEST_CASE_TEMPLATE("http: a request destroyed before the loop runs is never started nor reported", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  Outcome outcome;
  client.request(spec_for(TestServer::get().url("/ok")), outcome.record()).reset();
  CHECK(loop.run_until_idle());
  CHECK(outcome.calls == 0);
}

TEST_CASE_TEMPLATE("http: a done that destroys the other pending requests stops their callbacks", Engine,
                   DirectEngine, CurlEngine) {
  TestLoop loop;
  SUBCASE("requests completed in the same pass") {
    // Failures before curl complete together, in one delivery pass.
    HttpClient client(loop.get(), k_missing_curl);
    int calls = 0;
    std::unique_ptr<PendingProbe> second;
    auto first = client.request(spec_for(TestServer::get().tls_url("/ok")), [&](ProbeResult) {
      ++calls;
      second.reset();
    });
    second = client.request(spec_for(TestServer::get().tls_url("/ok")), [&](ProbeResult) { ++calls; });
    CHECK(loop.run_until_idle());
    CHECK(calls == 1);
  }
  SUBCASE("requests in flight") {
    HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
    int calls = 0;
    std::vector<std::unique_ptr<PendingProbe>> pending;
    for (int i = 0; i < 20; ++i) {
      pending.push_back(client.request(spec_for(TestServer::get().url("/ok")), [&](ProbeResult) {
        ++calls;
        pending.clear();
      }));
    }
    CHECK(loop.run_until_idle());
    CHECK(calls == 1);
  }
}

TEST_CASE_TEMPLATE("http: a done that destroys the client cancels the other requests", Engine, DirectEngine,
                   CurlEngine) {
  TestLoop loop;
  auto client = std::make_unique<HttpClient>(loop.get(), k_libcurl_soname, Engine::engines);
  int calls = 0;
  std::vector<std::unique_ptr<PendingProbe>> pending;
  pending.push_back(
      client->request(spec_for(TestServer::get().url("/hang")), [&](ProbeResult) { ++calls; }));
  for (int i = 0; i < 10; ++i) {
    pending.push_back(client->request(spec_for(TestServer::get().url("/ok")), [&](ProbeResult) {
      ++calls;
      client.reset();
    }));
  }
  CHECK(loop.run_until_idle());
  CHECK(calls == 1);
  CHECK(client == nullptr);
  pending.clear(); // handles outlive the client
}

TEST_CASE_TEMPLATE("http: destroying the client cancels its requests; their handles outlive it", Engine,
                   DirectEngine, CurlEngine) {
  TestLoop loop;
  Outcome hung;
  Outcome quick;
  std::unique_ptr<PendingProbe> hanging;
  std::unique_ptr<PendingProbe> starting;
  {
    HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
    hanging = client.request(spec_for(TestServer::get().url("/hang")), hung.record());
    CHECK(fetch(loop, client, spec_for(TestServer::get().url("/ok"))).ok);
    starting = client.request(spec_for(TestServer::get().url("/ok")), quick.record());
  }
  CHECK(loop.run_until_idle());
  hanging.reset();
  starting.reset();
  CHECK(hung.calls == 0);
  CHECK(quick.calls == 0);
}

TEST_CASE("http: a done may start the next request; libcurl's sequential requests reuse one connection") {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, HttpClient::Engines::curl_only);
  auto before = fetch(loop, client, spec_for(TestServer::get().url("/connections")));
  int remaining = 5;
  int ok = 0;
  std::unique_ptr<PendingProbe> pending;
  std::function<void(ProbeResult)> next = [&](ProbeResult result) {
    ok += result.status == 200 ? 1 : 0;
    if (--remaining > 0) {
      pending = client.request(spec_for(TestServer::get().url("/ok")), next);
    }
  };
  pending = client.request(spec_for(TestServer::get().url("/ok")), next);
  REQUIRE(loop.run_until([&] { return remaining == 0; }));
  CHECK(ok == 5);
  auto after = fetch(loop, client, spec_for(TestServer::get().url("/connections")));
  CHECK(!before.output.empty());
  CHECK(after.output == before.output); // no connection was opened after the first
}

TEST_CASE_TEMPLATE("http: many concurrent requests all complete", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  constexpr int k_requests = 200;
  int ok = 0;
  int calls = 0;
  std::vector<std::unique_ptr<PendingProbe>> pending;
  for (int i = 0; i < k_requests; ++i) {
    const char* path = i % 2 == 0 ? "/ok" : "/status/503";
    pending.push_back(client.request(spec_for(TestServer::get().url(path)), [&, i](ProbeResult r) {
      ++calls;
      ok += r.ok && r.status == (i % 2 == 0 ? 200 : 503) ? 1 : 0;
    }));
  }
  REQUIRE(loop.run_until([&] { return calls == k_requests; }));
  CHECK(ok == k_requests);
  CHECK(loop.run_until_idle());
}

TEST_CASE("http: each direct request opens a connection of its own and asks the server to close it") {
  TestLoop loop;
  HttpClient client(loop.get());
  auto count = [&] { return std::stoi(fetch(loop, client, spec_for(TestServer::get().url("/connections"))).output); };
  const int before = count();
  for (int i = 0; i < 3; ++i) {
    CHECK(fetch(loop, client, spec_for(TestServer::get().url("/ok"))).output == "hello");
  }
  CHECK(count() == before + 4); // three requests and the second count, one connection each
  CHECK(loop.run_until_idle()); // no connection is kept
}

TEST_CASE_TEMPLATE("http: a server that closes without answering is reported as such", Engine, DirectEngine,
                   CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  CannedServer server(AF_INET, "");
  auto result = fetch(loop, client, spec_for(server.url()));
  CHECK_FALSE(result.ok);
  CHECK(result.error == "the server closed the connection without answering");
}

TEST_CASE_TEMPLATE("http: a response without a length ends with the connection", Engine, DirectEngine,
                   CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  CannedServer server(AF_INET, "HTTP/1.0 200 OK\r\nServer: canned\r\n\r\nall of it");
  auto result = fetch(loop, client, spec_for(server.url()));
  CHECK(result.ok);
  CHECK(result.status == 200);
  CHECK(result.output == "all of it");
}

TEST_CASE_TEMPLATE("http: a broken response is an error, not a status", Engine, DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  CannedServer server(AF_INET, "HTTP/1.1 abc nonsense\r\n\r\n");
  auto result = fetch(loop, client, spec_for(server.url()));
  CHECK_FALSE(result.ok);
  CHECK(result.status == 0);
  CHECK_FALSE(result.error.empty());
}

TEST_CASE("http: localhost refused on both addresses reports connection refused") {
  TestLoop loop;
  HttpClient client(loop.get());
  RefusingPort refusing;
  auto result = fetch(loop, client, spec_for("http://localhost:" + std::to_string(refusing.port()) + "/"));
  CHECK_FALSE(result.ok);
  CHECK(result.error == "connection refused");
}

TEST_CASE_TEMPLATE("http: a reset in the middle of a response reads as a close without an answer", Engine,
                   DirectEngine, CurlEngine) {
  TestLoop loop;
  HttpClient client(loop.get(), k_libcurl_soname, Engine::engines);
  CannedServer server(AF_INET, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", CannedServer::Close::reset);
  auto result = fetch(loop, client, spec_for(server.url()));
  CHECK_FALSE(result.ok);
  CHECK(result.error == "the server closed the connection without answering");
}

TEST_CASE("http: localhost reaches a server that listens on ::1 only") {
  TestLoop loop;
  HttpClient client(loop.get());
  CannedServer server(AF_INET6, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6");
  if (!server.listening()) {
    MESSAGE("skipped: no IPv6 loopback on this machine");
    return;
  }
  auto result = fetch(loop, client, spec_for("http://localhost:" + std::to_string(server.port()) + "/"));
  CHECK(result.ok);
  CHECK(result.output == "v6");
  CHECK_FALSE(client.loaded());
}
