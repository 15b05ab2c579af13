#include "control/request.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace luvsup::control;

namespace {

std::string error_of(std::string_view line) {
  auto parsed = parse_request(line);
  REQUIRE(std::holds_alternative<RequestError>(parsed));
  return std::get<RequestError>(parsed).message;
}

Request request_of(std::string_view line) {
  auto parsed = parse_request(line);
  if (auto* error = std::get_if<RequestError>(&parsed)) {
    FAIL("unexpected error: " << error->message);
  }
  return std::get<Request>(parsed);
}

} // namespace

TEST_CASE("a status request names services and echoes its id") {
  const Request r = request_of(R"({"v":1,"id":7,"cmd":"status","services":["web","db"]})");
  CHECK(r.cmd == Cmd::status);
  CHECK(r.id == 7);
  CHECK(r.services == std::vector<std::string>{"web", "db"});
}

TEST_CASE("a request without services or id means every service and a null id") {
  const Request r = request_of(R"({"v":1,"cmd":"status"})");
  CHECK(r.services.empty());
  CHECK(r.id.is_null());
}

TEST_CASE("string ids are echoed as they came") {
  CHECK(request_of(R"({"v":1,"id":"abc","cmd":"shutdown"})").id == "abc");
}

TEST_CASE("stop, start and restart take names or all, never both or neither") {
  CHECK(request_of(R"({"v":1,"cmd":"stop","services":["web"]})").cmd == Cmd::stop);
  CHECK(request_of(R"({"v":1,"cmd":"restart","all":true})").all);
  CHECK(error_of(R"({"v":1,"cmd":"start"})").find("needs either service names") !=
        std::string::npos);
  CHECK(error_of(R"({"v":1,"cmd":"start","all":true,"services":["a"]})").find("needs either") !=
        std::string::npos);
  CHECK(error_of(R"({"v":1,"cmd":"stop","all":"yes"})") == "'all' expects true or false");
}

TEST_CASE("logs takes a line count and follow") {
  const Request r = request_of(R"({"v":1,"cmd":"logs","lines":50,"follow":true})");
  CHECK(r.lines == 50);
  CHECK(r.follow);
  CHECK(error_of(R"({"v":1,"cmd":"logs","lines":-1})").find("'lines' expects") == 0);
  CHECK(error_of(R"({"v":1,"cmd":"logs","lines":1.5})").find("'lines' expects") == 0);
  CHECK(error_of(R"({"v":1,"cmd":"logs","lines":100000000})").find("'lines' expects") == 0);
}

TEST_CASE("pid and signal need exactly one service, signal a signal") {
  CHECK(request_of(R"({"v":1,"cmd":"pid","services":["web"]})").services.size() == 1);
  CHECK(error_of(R"({"v":1,"cmd":"pid","services":["a","b"]})") ==
        "'pid' needs exactly one service name");
  CHECK(request_of(R"({"v":1,"cmd":"signal","services":["web"],"signal":"HUP"})").signal == "HUP");
  CHECK(request_of(R"({"v":1,"cmd":"signal","services":["web"],"signal":10})").signal == "10");
  CHECK(error_of(R"({"v":1,"cmd":"signal","services":["web"]})") == "'signal' needs a signal");
  CHECK(error_of(R"({"v":1,"cmd":"signal","services":["web"],"signal":99})") ==
        "'signal' expects a signal name or number");
}

TEST_CASE("malformed JSON and non-objects are refused") {
  CHECK(error_of("{") == "malformed JSON");
  CHECK(error_of("not json") == "malformed JSON");
  CHECK(error_of(R"({"v":1,"cmd":"status"} trailing)") == "malformed JSON");
  CHECK(error_of("[1,2]") == "a request is a JSON object");
  CHECK(error_of("42") == "a request is a JSON object");
  CHECK(error_of("") == "malformed JSON");
}

TEST_CASE("the version is required and must be 1") {
  CHECK(error_of(R"({"cmd":"status"})").find("missing 'v'") == 0);
  CHECK(error_of(R"({"v":2,"cmd":"status"})").find("unsupported protocol version") == 0);
  CHECK(error_of(R"({"v":"1","cmd":"status"})").find("unsupported protocol version") == 0);
}

TEST_CASE("unknown and missing commands are refused with the id kept") {
  auto parsed = parse_request(R"({"v":1,"id":3,"cmd":"explode"})");
  REQUIRE(std::holds_alternative<RequestError>(parsed));
  CHECK(std::get<RequestError>(parsed).message == "unknown command 'explode'");
  CHECK(std::get<RequestError>(parsed).id == 3);
  CHECK(error_of(R"({"v":1})").find("missing 'cmd'") == 0);
  CHECK(error_of(R"({"v":1,"cmd":5})").find("missing 'cmd'") == 0);
}

TEST_CASE("keys a command does not take are refused") {
  CHECK(error_of(R"({"v":1,"cmd":"status","follow":true})") ==
        "unknown key 'follow' for command 'status'");
  CHECK(error_of(R"({"v":1,"cmd":"reload","services":["a"]})") ==
        "unknown key 'services' for command 'reload'");
}

TEST_CASE("services must be an array of non-empty strings") {
  CHECK(error_of(R"({"v":1,"cmd":"status","services":"web"})") ==
        "'services' expects an array of service names");
  CHECK(error_of(R"({"v":1,"cmd":"status","services":[1]})") ==
        "'services' expects an array of non-empty strings");
  CHECK(error_of(R"({"v":1,"cmd":"status","services":[""]})") ==
        "'services' expects an array of non-empty strings");
}

TEST_CASE("ids that are neither integers nor strings are refused") {
  CHECK(error_of(R"({"v":1,"id":{},"cmd":"status"})") == "'id' expects an integer or a string");
}

TEST_CASE("a request longer than the cap is refused before parsing") {
  const std::string huge =
      R"({"v":1,"cmd":"status","services":[")" + std::string(k_max_request, 'x') + R"("]})";
  CHECK(error_of(huge).find("request too long") == 0);
}

TEST_CASE("deeply nested JSON is refused without harm") {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  CHECK(error_of(deep) == "a request is a JSON object");
}

TEST_CASE("plan takes an absolute stack file, or none for the running one") {
  CHECK(request_of(R"({"v":1,"cmd":"plan","file":"/srv/stack.lua"})").file == "/srv/stack.lua");
  const Request r = request_of(R"({"v":1,"cmd":"plan"})");
  CHECK(r.cmd == Cmd::plan);
  CHECK(r.file.empty());
  CHECK(error_of(R"({"v":1,"cmd":"plan","file":"stack.lua"})") == "'file' expects an absolute path");
  CHECK(error_of(R"({"v":1,"cmd":"plan","file":7})") == "'file' expects an absolute path");
  CHECK(error_of(R"({"v":1,"cmd":"status","file":"/x"})") == "unknown key 'file' for command 'status'");
}

TEST_CASE("any request may name the stack it means, as an absolute path") {
  CHECK(request_of(R"({"v":1,"cmd":"status","stack":"/srv/stack.lua"})").stack == "/srv/stack.lua");
  CHECK(request_of(R"({"v":1,"cmd":"stop","all":true,"stack":"/srv/stack.lua"})").stack ==
        "/srv/stack.lua");
  CHECK(request_of(R"({"v":1,"cmd":"status"})").stack.empty());
  CHECK(error_of(R"({"v":1,"cmd":"status","stack":"stack.lua"})") == "'stack' expects an absolute path");
}
