// LineMatcher: ready log patterns matched with Lua's own string.find.
#include "readiness/line_matcher.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace luvsup::readiness;

namespace {
bool matches(LineMatcher& m, std::string_view line, const std::string& pattern) {
  auto r = m.find(line, pattern);
  REQUIRE_MESSAGE(std::holds_alternative<bool>(r), std::get<std::string>(r));
  return std::get<bool>(r);
}
} // namespace

TEST_CASE("a ready pattern matches anywhere in the line with Lua semantics") {
  LineMatcher m;
  CHECK(matches(m, "2024-01-01 server listening on port 8080", "listening on port %d+"));
  CHECK_FALSE(matches(m, "listening on port x", "listening on port %d+"));
  CHECK(matches(m, "Ready.", "^Ready%.$"));
  CHECK_FALSE(matches(m, "Not Ready.", "^Ready"));
  CHECK(matches(m, "a.b", "a.b"));  // '.' is any character
  CHECK(matches(m, "a-b", "a%-b")); // '%' escapes, not '\\'
  CHECK(matches(m, "(ok)", "%b()"));
  CHECK(matches(m, "THE END", "%u+ %u+"));
  CHECK(matches(m, "", "^$"));
}

TEST_CASE("a line with NUL bytes and invalid UTF-8 is matched as bytes") {
  LineMatcher m;
  const std::string line("bin\0ary \xff ready", 15);
  CHECK(matches(m, line, "ready$"));
  CHECK(matches(m, line, "%z")); // NUL is an ordinary byte to Lua 5.4 patterns
}

TEST_CASE("a malformed pattern is an error that says what is wrong, not a crash") {
  LineMatcher m;
  // Lua checks a pattern only as far as a match attempt reaches it.
  auto r = m.find("ends with x", "ends with %");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("malformed pattern") != std::string::npos);
  CHECK(std::get<std::string>(r).find('\n') == std::string::npos);
  r = m.find("anything", "[unclosed");
  CHECK(std::holds_alternative<std::string>(r));
  r = m.find("[", "[unclosed");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("missing ']'") != std::string::npos);
  CHECK(matches(m, "still usable", "usable")); // the state survives errors
}

TEST_CASE("long lines are matched within the matcher's memory cap") {
  LineMatcher m;
  const std::string line(64 * 1024, 'x');
  for (int i = 0; i < 200; ++i) {
    CHECK_FALSE(matches(m, line + std::to_string(i), "^y"));
  }
  CHECK(matches(m, line + "READY", "READY$"));
}
