// LogFileWriter's batching: commit_soon() gathers a busy stream into large
// write jobs without delaying a quiet one, a flush or the end for long.
#include "log/log_file_writer.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace luvsup::log;
using namespace luvsup::log::test;

namespace {

constexpr std::string_view k_ts = "2026-01-02T03:04:05.678";

} // namespace

TEST_CASE("commit_soon holds a small batch briefly, then writes it without further calls") {
  TempDir dir;
  Loop loop;
  const std::string path = dir.path("a.log");
  LogFileWriter writer(loop.get(), "svc", LogFileSettings{path});
  writer.append(k_ts, {}, '|', "hello");
  writer.commit_soon();
  CHECK(writer.pending_bytes() > 0); // no job yet: nothing can have created the file
  CHECK_FALSE(std::filesystem::exists(path));
  REQUIRE(loop.run_until([&] { return writer.idle(); }));
  CHECK(read_file(path) == std::string(k_ts) + " | hello\n");
}

TEST_CASE("commit_soon hands a full batch to a write job at once") {
  TempDir dir;
  Loop loop;
  const std::string path = dir.path("a.log");
  LogFileWriter writer(loop.get(), "svc", LogFileSettings{path});
  const std::string line(100, 'x');
  size_t expected = 0;
  while (writer.pending_bytes() < LogFileWriter::k_batch_size) {
    writer.append(k_ts, {}, '|', line);
    expected += k_ts.size() + 3 + line.size() + 1;
  }
  writer.commit_soon();
  CHECK(writer.pending_bytes() == 0);
  REQUIRE(loop.run_until([&] { return writer.idle(); }));
  CHECK(std::filesystem::file_size(path) == expected);
}

TEST_CASE("a flush does not wait for a batch that commit_soon holds") {
  TempDir dir;
  Loop loop;
  const std::string path = dir.path("a.log");
  LogFileWriter writer(loop.get(), "svc", LogFileSettings{path});
  writer.append(k_ts, {}, '|', "one");
  writer.commit_soon();
  bool flushed = false;
  writer.flush([&] { flushed = true; });
  CHECK(writer.pending_bytes() == 0);
  REQUIRE(loop.run_until([&] { return flushed; }));
  CHECK(read_file(path) == std::string(k_ts) + " | one\n");
}

TEST_CASE("a writer destroyed while commit_soon holds a batch still writes it") {
  TempDir dir;
  const std::string path = dir.path("a.log");
  {
    Loop loop;
    {
      LogFileWriter writer(loop.get(), "svc", LogFileSettings{path});
      writer.append(k_ts, {}, '|', "last");
      writer.commit_soon();
    }
  } // the loop runs until the orphaned job is done
  CHECK(read_file(path) == std::string(k_ts) + " | last\n");
}
