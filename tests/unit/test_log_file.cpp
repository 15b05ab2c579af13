// Unit tests for LogFile: the blocking half of the writer (open, rotate, append).
#include "log/byte_buffer.hpp"
#include "log/log_file.hpp"
#include "log/record_format.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace luvsup::log;
using namespace luvsup::log::test;

namespace {

const std::string k_ts = "2026-01-02T03:04:05.678";

std::string records(int from, int to, size_t width = 10) {
  ByteBuffer buf;
  for (int i = from; i < to; ++i) {
    std::string payload = std::to_string(i);
    payload.resize(width, '.');
    append_record(buf, k_ts, "", '|', payload);
  }
  return std::string(buf.view());
}

} // namespace

TEST_CASE("a log file is created with its parent directories, mode 0644, and appended to") {
  TempDir dir;
  LogFile file;
  LogFileSettings s{dir.path("a/b/service.log"), 0, 5, 30};
  CHECK(file.write(s, records(0, 3)).error == 0);
  CHECK(file.write(s, records(3, 5)).error == 0);
  CHECK(read_file(s.path) == records(0, 5));
  struct stat st {};
  REQUIRE(::stat(s.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("rotation keeps every record whole and keeps the configured number of files") {
  TempDir dir;
  LogFile file;
  const std::string one = records(0, 1); // 37 bytes per record
  LogFileSettings s{dir.path("svc.log"), 10 * one.size() + 5, 3, 30};
  std::string all;
  for (int i = 0; i < 100; i += 7) { // batches that straddle the limit
    const std::string batch = records(i, i + 7);
    all += batch;
    REQUIRE(file.write(s, batch).error == 0);
  }
  CHECK(!std::filesystem::exists(s.path + ".4"));
  std::string kept;
  for (const char* suffix : {".3", ".2", ".1", ""}) {
    const std::string text = read_file(s.path + suffix);
    REQUIRE(std::filesystem::exists(s.path + suffix));
    CHECK(text.size() <= s.max_size);
    CHECK(text.size() % one.size() == 0); // whole records only
    parse_records(text, false);
    kept += text;
  }
  // The files together hold the newest records, contiguous and in order.
  CHECK(kept.size() >= 3 * 10 * one.size());
  CHECK(all.substr(all.size() - kept.size()) == kept);
  // Each rotated file was filled up to the limit before rotating.
  CHECK(read_file(s.path + ".1").size() == 10 * one.size());
}

TEST_CASE("a record larger than max_size goes alone into a fresh file") {
  TempDir dir;
  LogFile file;
  LogFileSettings s{dir.path("svc.log"), 100, 2, 30};
  const std::string small = records(0, 1);
  const std::string big = records(1, 2, 200);
  REQUIRE(file.write(s, small + big + small).error == 0);
  CHECK(read_file(s.path + ".2") == small);
  CHECK(read_file(s.path + ".1") == big);
  CHECK(read_file(s.path) == small);
}

TEST_CASE("max_size 0 never rotates and keep 0 rotates by starting afresh") {
  TempDir dir;
  LogFile file;
  LogFileSettings never{dir.path("never.log"), 0, 5, 30};
  REQUIRE(file.write(never, records(0, 200)).error == 0);
  CHECK(read_file(never.path) == records(0, 200));
  LogFile other;
  LogFileSettings none{dir.path("none.log"), 100, 0, 30};
  REQUIRE(other.write(none, records(0, 5)).error == 0);
  CHECK(read_file(none.path) == records(4, 5));
  CHECK(!std::filesystem::exists(none.path + ".1"));
}

TEST_CASE("a log file removed behind luvsup's back is recreated") {
  TempDir dir;
  LogFile file;
  LogFileSettings s{dir.path("svc.log"), 0, 5, 30};
  REQUIRE(file.write(s, records(0, 2)).error == 0);
  std::filesystem::rename(s.path, s.path + ".old");
  REQUIRE(file.write(s, records(2, 3)).error == 0);
  CHECK(read_file(s.path) == records(2, 3));
  CHECK(read_file(s.path + ".old") == records(0, 2));
}

TEST_CASE("a failing write reports errno and counts the service bytes it dropped") {
  LogFile file;
  LogFileSettings s{"/dev/full", 100, 5, 30};
  const WriteOutcome out = file.write(s, records(0, 3));
  CHECK(out.error == ENOSPC);
  CHECK(out.written == 0);
  CHECK(out.dropped_original == 33); // three 10-byte payloads and their newlines
}

TEST_CASE("an unopenable log path is an error, not a crash") {
  TempDir dir;
  LogFile file;
  const std::string blocker = dir.path("plain");
  std::ofstream(blocker) << "not a directory";
  LogFileSettings s{blocker + "/svc.log", 0, 5, 30}; // parent is a regular file
  const WriteOutcome out = file.write(s, records(0, 1));
  CHECK(out.error == ENOTDIR);
  CHECK(out.dropped_original == 11);
}
