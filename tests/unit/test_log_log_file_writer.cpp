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

TEST_CASE("records added through a batch are the bytes append() writes, tagged or not") {
  TempDir dir;
  Loop loop;
  const std::string one = dir.path("append.log");
  const std::string two = dir.path("batch.log");
  LogFileWriter by_append(loop.get(), "svc", LogFileSettings{one});
  LogFileWriter by_batch(loop.get(), "svc", LogFileSettings{two});
  const std::string long_payload(300, 'y');
  struct Input {
    std::string_view tag;
    char mark;
    std::string_view payload;
  };
  const Input inputs[] = {{{}, '|', "hello"}, {{}, '|', ""},         {{}, '+', long_payload},
                          {"out", '|', "o"},  {"err", '%', "tail"}, {"err", '|', ""}};
  for (const Input& in : inputs) {
    by_append.append(k_ts, in.tag, in.mark, in.payload);
    RecordBatch batch = by_batch.begin_records(k_ts, in.tag);
    batch.add(in.mark, in.payload);
    by_batch.end_records(batch);
  }
  by_append.commit();
  by_batch.commit();
  REQUIRE(loop.run_until([&] { return by_append.idle() && by_batch.idle(); }));
  const std::string expected = read_file(one);
  CHECK(expected.find(std::string(k_ts) + " err % tail\n") != std::string::npos);
  CHECK(read_file(two) == expected);
  CHECK(by_batch.dropped_total() == 0);
}

