// Which URLs the direct HTTP engine sends itself, and the bytes it sends.
#include "http/direct_request.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

using luvsup::health::HttpRequestSpec;
using luvsup::http::direct_target;
using luvsup::http::request_text;

namespace {

std::string address_text(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(addr);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return std::string(text) + " " + std::to_string(ntohs(in.sin_port));
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(addr);
  inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
  return std::string(text) + " " + std::to_string(ntohs(in6.sin6_port));
}

} // namespace

TEST_CASE("direct target: an IPv4 URL gives its address, Host and request target") {
  auto target = direct_target("http://127.0.0.1:5001/health?deep=1#top");
  REQUIRE(target);
  REQUIRE(target->addresses.size() == 1);
  CHECK(address_text(target->addresses[0]) == "127.0.0.1 5001");
  CHECK(target->host_header == "127.0.0.1:5001");
  CHECK(target->path == "/health?deep=1");
}

TEST_CASE("direct target: the path defaults to /, a bare query gets one, port 80 is left out of Host") {
  auto bare = direct_target("HTTP://10.0.0.7");
  REQUIRE(bare);
  CHECK(address_text(bare->addresses[0]) == "10.0.0.7 80");
  CHECK(bare->host_header == "10.0.0.7");
  CHECK(bare->path == "/");
  auto query = direct_target("http://10.0.0.7:80?x=1");
  REQUIRE(query);
  CHECK(query->host_header == "10.0.0.7");
  CHECK(query->path == "/?x=1");
}

TEST_CASE("direct target: an IPv6 literal keeps its brackets in Host") {
  auto target = direct_target("http://[::1]:8080/ready");
  REQUIRE(target);
  CHECK(address_text(target->addresses[0]) == "::1 8080");
  CHECK(target->host_header == "[::1]:8080");
  CHECK(target->path == "/ready");
}

TEST_CASE("direct target: localhost is tried as 127.0.0.1, then ::1") {
  auto target = direct_target("http://LocalHost:3000/");
  REQUIRE(target);
  REQUIRE(target->addresses.size() == 2);
  CHECK(address_text(target->addresses[0]) == "127.0.0.1 3000");
  CHECK(address_text(target->addresses[1]) == "::1 3000");
  CHECK(target->host_header == "LocalHost:3000");
}

TEST_CASE("direct target: what needs libcurl is left to it") {
  for (const char* url : {"https://127.0.0.1/", "http://example.internal/health", "http://user:pw@127.0.0.1/",
                          "http://[fe80::1%25eth0]/", "http://127.0.0.1:0/", "http://127.0.0.1:70000/",
                          "http://127.0.0.1:80x/", "http://127.1/", "ftp://127.0.0.1/"}) {
    CAPTURE(url);
    CHECK_FALSE(direct_target(url));
  }
}

TEST_CASE("direct request: a GET names luvsup, accepts anything and asks to close") {
  HttpRequestSpec spec;
  spec.url = "http://127.0.0.1:5001/health";
  auto target = direct_target(spec.url);
  REQUIRE(target);
  CHECK(request_text(spec, *target) == "GET /health HTTP/1.1\r\nHost: 127.0.0.1:5001\r\n"
                                       "User-Agent: luvsup\r\nAccept: */*\r\nConnection: close\r\n\r\n");
}

TEST_CASE("direct request: a POST carries its body's length and curl's default Content-Type") {
  HttpRequestSpec spec;
  spec.url = "http://127.0.0.1/hook";
  spec.method = "post";
  spec.body = "a=1";
  auto target = direct_target(spec.url);
  REQUIRE(target);
  CHECK(request_text(spec, *target) ==
        "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: luvsup\r\nAccept: */*\r\n"
        "Content-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\na=1");
}

TEST_CASE("direct request: the spec's headers replace the defaults of the same name; framing stays luvsup's") {
  HttpRequestSpec spec;
  spec.url = "http://127.0.0.1/";
  spec.method = "PUT";
  spec.body = "{}";
  spec.headers = {{"host", "api.local"}, {"Content-Type", "application/json"}, {"X-Empty", ""},
                  {"Content-Length", "999"}, {"Connection", "keep-alive"}};
  auto target = direct_target(spec.url);
  REQUIRE(target);
  CHECK(request_text(spec, *target) ==
        "PUT / HTTP/1.1\r\nUser-Agent: luvsup\r\nAccept: */*\r\nhost: api.local\r\n"
        "Content-Type: application/json\r\nX-Empty: \r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
}
