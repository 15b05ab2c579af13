// Whole-file reads and the line and field splitting that replace iostreams.
#include "os/file_text.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

using namespace luvsup;

TEST_CASE("read_file returns a file's bytes, NULs and a missing final newline included") {
  char path[] = "/tmp/luvsup-file-text-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string content = std::string("a b\n\0c", 6) + std::string(10000, 'x');
  REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  ::close(fd);
  CHECK(os::read_file(path) == content);
  ::unlink(path);
}

TEST_CASE("read_file reads a /proc file to its end although it reports size 0") {
  const auto status = os::read_file("/proc/self/status");
  REQUIRE(status.has_value());
  CHECK(status->find("Pid:") != std::string::npos);
}

TEST_CASE("read_file of a missing file is nullopt with errno ENOENT") {
  errno = 0;
  CHECK_FALSE(os::read_file("/nonexistent/luvsup-file-text").has_value());
  CHECK(errno == ENOENT);
}

TEST_CASE("lines splits at newlines; a last line without one counts, an empty text has none") {
  CHECK(os::lines("one\ntwo\n\nthree") ==
        std::vector<std::string_view>{"one", "two", "", "three"});
  CHECK(os::lines("one\n") == std::vector<std::string_view>{"one"});
  CHECK(os::lines("").empty());
}

TEST_CASE("fields splits at runs of spaces and tabs and ignores blanks at either end") {
  CHECK(os::fields("  0: 0100007F:1F90 \t 0A  ") ==
        std::vector<std::string_view>{"0:", "0100007F:1F90", "0A"});
  CHECK(os::fields(" \t ").empty());
}

TEST_CASE("parse_number takes a whole decimal number only") {
  CHECK(os::parse_number<int>("42") == 42);
  CHECK(os::parse_number<int>("-7") == -7);
  CHECK(os::parse_number<unsigned long long>("18446744073709551615") == 18446744073709551615ULL);
  CHECK_FALSE(os::parse_number<int>("").has_value());
  CHECK_FALSE(os::parse_number<int>("12x").has_value());
  CHECK_FALSE(os::parse_number<int>("99999999999").has_value());
}
