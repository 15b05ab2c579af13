#include "cli/log_tail.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

using namespace luvsup::cli;

namespace {

struct TempFile {
  TempFile() {
    char tmpl[] = "/tmp/luvsup-tail-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    ::close(fd);
    path = tmpl;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
};

std::string record(int second, const std::string& text) {
  char ts[32];
  std::snprintf(ts, sizeof ts, "2026-01-01T00:00:%02d.000", second);
  return std::string(ts) + " | " + text;
}

} // namespace

TEST_CASE("the tail of a file is its last n records") {
  TempFile file;
  {
    std::ofstream out(file.path);
    for (int i = 0; i < 50; ++i) {
      out << record(i, "line " + std::to_string(i)) << "\n";
    }
  }
  auto lines = tail_file(file.path, 3);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == record(47, "line 47"));
  CHECK(lines[2] == record(49, "line 49"));
  CHECK(tail_file(file.path, 100).size() == 50);
  CHECK(tail_file(file.path, 0).empty());
  CHECK(tail_file("/nonexistent/file.log", 5).empty());
}

TEST_CASE("the tail reaches back across many read chunks") {
  TempFile file;
  const std::string long_text(40000, 'x');
  {
    std::ofstream out(file.path);
    for (int i = 0; i < 10; ++i) {
      out << record(i, long_text) << "\n";
    }
  }
  auto lines = tail_file(file.path, 4);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == record(6, long_text));
}

TEST_CASE("an unterminated last record is shown") {
  TempFile file;
  std::ofstream(file.path) << record(1, "a") << "\n" << record(2, "b");
  auto lines = tail_file(file.path, 5);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == record(2, "b"));
}

TEST_CASE("a short log is completed from its newest rotated copy") {
  TempFile file;
  std::ofstream(file.path + ".1") << record(1, "old1") << "\n" << record(2, "old2") << "\n";
  std::ofstream(file.path) << record(3, "new3") << "\n";
  auto lines = tail_log(file.path, 2);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == record(2, "old2"));
  CHECK(lines[1] == record(3, "new3"));
  CHECK(tail_log(file.path, 1) == std::vector<std::string>{record(3, "new3")});
  std::remove((file.path + ".1").c_str());
}

TEST_CASE("tails of several services interleave by timestamp and keep the last n") {
  auto merged = merge_tails({{"web", {record(1, "w1"), record(4, "w4")}},
                             {"db", {record(2, "d2"), record(3, "d3"), record(5, "d5")}}},
                            4);
  REQUIRE(merged.size() == 4);
  CHECK(merged[0].record == record(2, "d2"));
  CHECK(merged[1].record == record(3, "d3"));
  CHECK(merged[2].service == "web");
  CHECK(merged[3].record == record(5, "d5"));
}
