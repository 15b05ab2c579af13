// ResponseParser on responses fed as bytes: framing (length, chunks, close),
// interim responses, HEAD, the caps and the errors, without a socket.
#include "http/failure_text.hpp"
#include "http/response_parser.hpp"

#include <doctest/doctest.h>

#include <string>

using luvsup::http::ResponseParser;

namespace {

// Feeds `text` one byte at a time: every callback must cope with pieces.
bool feed_bytewise(ResponseParser& parser, const std::string& text) {
  for (char c : text) {
    if (!parser.feed(std::string_view(&c, 1))) {
      return false;
    }
  }
  return true;
}

} // namespace

TEST_CASE("response parser: a Content-Length body completes the response without waiting for the close") {
  ResponseParser parser({});
  CHECK(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
  CHECK_FALSE(parser.complete());
  CHECK(parser.started());
  CHECK_FALSE(parser.feed("lo"));
  CHECK(parser.complete());
  CHECK(parser.error().empty());
  CHECK(parser.status() == 200);
  CHECK(parser.body() == "hello");
}

TEST_CASE("response parser: a chunked body is reassembled, fed in one piece or byte by byte") {
  const std::string response =
      "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\ndown\r\n6\r\n again\r\n0\r\n\r\n";
  SUBCASE("one piece") {
    ResponseParser parser({});
    CHECK_FALSE(parser.feed(response));
    CHECK(parser.complete());
    CHECK(parser.status() == 503);
    CHECK(parser.body() == "down again");
  }
  SUBCASE("byte by byte") {
    ResponseParser parser({});
    CHECK_FALSE(feed_bytewise(parser, response));
    CHECK(parser.complete());
    CHECK(parser.body() == "down again");
  }
}

TEST_CASE("response parser: a chunked body that also names a length is read by its chunks, as curl does") {
  ResponseParser parser({});
  CHECK_FALSE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "2\r\nok\r\n0\r\n\r\n"));
  CHECK(parser.complete());
  CHECK(parser.body() == "ok");
}

TEST_CASE("response parser: a body without a length ends when the server closes") {
  ResponseParser parser({});
  CHECK(parser.feed("HTTP/1.0 200 OK\r\n\r\nuntil the end"));
  CHECK_FALSE(parser.complete());
  parser.finish();
  CHECK(parser.complete());
  CHECK(parser.body() == "until the end");
}

TEST_CASE("response parser: a \"100 Continue\" is skipped; the final response counts") {
  ResponseParser parser({.keep_headers = true});
  CHECK_FALSE(parser.feed("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                          "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok"));
  CHECK(parser.complete());
  CHECK(parser.status() == 201);
  CHECK(parser.body() == "ok");
  REQUIRE(parser.headers().size() == 2);
  CHECK(parser.headers()[1].first == "x-final");
}

TEST_CASE("response parser: the answer to HEAD has no body, whatever its Content-Length says") {
  ResponseParser parser({.head = true});
  CHECK_FALSE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"));
  CHECK(parser.complete());
  CHECK(parser.status() == 200);
  CHECK(parser.body().empty());
}

TEST_CASE("response parser: the body is cut at max_body and the response still completes") {
  ResponseParser parser({.max_body = 4});
  CHECK_FALSE(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"));
  CHECK(parser.complete());
  CHECK(parser.body() == "0123");
}

TEST_CASE("response parser: headers are kept only when asked, names lowercased and values trimmed") {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nX-Split-Name: v\r\n"
                               "Content-Length: 0\r\n\r\n";
  SUBCASE("asked") {
    ResponseParser parser({.keep_headers = true});
    CHECK_FALSE(feed_bytewise(parser, response));
    REQUIRE(parser.headers().size() == 3);
    CHECK(parser.headers()[0] == std::pair<std::string, std::string>{"content-type", "text/plain"});
    CHECK(parser.headers()[1] == std::pair<std::string, std::string>{"x-split-name", "v"});
  }
  SUBCASE("not asked") {
    ResponseParser parser({});
    CHECK_FALSE(parser.feed(response));
    CHECK(parser.complete());
    CHECK(parser.headers().empty());
  }
}

TEST_CASE("response parser: headers past the cap fail the response") {
  ResponseParser parser({});
  std::string response = "HTTP/1.1 200 OK\r\n";
  while (response.size() < 2 * luvsup::http::k_max_header_bytes) {
    response += "X-Filler: " + std::string(100, 'x') + "\r\n";
  }
  CHECK_FALSE(parser.feed(response));
  CHECK_FALSE(parser.complete());
  CHECK(parser.error() == luvsup::http::headers_too_large_text());
}

TEST_CASE("response parser: what is not an HTTP response is an error, not a status") {
  ResponseParser parser({});
  CHECK_FALSE(parser.feed("SSH-2.0-OpenSSH_9.2\r\n"));
  CHECK_FALSE(parser.complete());
  CHECK(parser.error().starts_with("invalid HTTP response: "));
  CHECK_FALSE(parser.feed("HTTP/1.1 200 OK\r\n\r\n")); // nothing more is read
  CHECK(parser.status() == 0);
}

TEST_CASE("response parser: a close before any byte is a close without an answer") {
  ResponseParser parser({});
  parser.finish();
  CHECK_FALSE(parser.complete());
  CHECK_FALSE(parser.started());
  CHECK(parser.error() == luvsup::http::k_closed_without_answer);
}

TEST_CASE("response parser: a close in the middle of a response with a length is incomplete") {
  SUBCASE("in the body") {
    ResponseParser parser({});
    CHECK(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    parser.finish();
    CHECK_FALSE(parser.complete());
    CHECK(parser.error() == "the server closed the connection before the response was complete");
  }
  SUBCASE("in the headers") {
    ResponseParser parser({});
    CHECK(parser.feed("HTTP/1.1 200 OK\r\nContent-Le"));
    parser.finish();
    CHECK_FALSE(parser.complete());
    CHECK_FALSE(parser.error().empty());
  }
}
