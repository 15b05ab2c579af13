// Unit tests for the pure parts of the log pipeline: line framing, record
// formatting and the timestamp cache.
#include "log/line_framer.hpp"
#include "log/record_format.hpp"
#include "log/timestamp_cache.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace luvsup::log;
using Pieces = std::vector<std::pair<std::string, char>>;

namespace {

Pieces frame(size_t max_line, const std::vector<std::string>& chunks, bool finish = true) {
  LineFramer framer(max_line);
  Pieces out;
  auto emit = [&](std::string_view payload, char m) { out.emplace_back(std::string(payload), m); };
  for (const auto& chunk : chunks) {
    framer.feed(chunk, emit);
  }
  if (finish) {
    framer.finish(emit);
  }
  return out;
}

} // namespace

TEST_CASE("complete lines become '|' records without their newline") {
  CHECK(frame(100, {"a\nbb\n\n"}) == Pieces{{"a", '|'}, {"bb", '|'}, {"", '|'}});
}

TEST_CASE("NUL bytes, invalid UTF-8 and carriage returns pass through verbatim") {
  const std::string line = std::string("x\0y", 3) + "\xff\xfe\xc3(" + "\r";
  CHECK(frame(100, {line + "\n"}) == Pieces{{line, '|'}});
}

TEST_CASE("a line split across chunks is one record") {
  CHECK(frame(100, {"hel", "lo wo", "rld\nne", "xt\n"}) ==
        Pieces{{"hello world", '|'}, {"next", '|'}});
}

TEST_CASE("a line of exactly max_line bytes is a single '|' record") {
  CHECK(frame(4, {"abcd\n"}) == Pieces{{"abcd", '|'}});
  CHECK(frame(4, {"ab", "cd", "\n"}) == Pieces{{"abcd", '|'}});
}

TEST_CASE("a longer line is split at max_line exactly, each piece marked '+'") {
  const Pieces expected{{"abcd", '+'}, {"efgh", '+'}, {"ij", '|'}};
  CHECK(frame(4, {"abcdefghij\n"}) == expected);
  CHECK(frame(4, {"a", "bcdef", "gh", "ij\n"}) == expected);
  CHECK(frame(4, {"abcdefgh\n"}) == Pieces{{"abcd", '+'}, {"efgh", '|'}});
}

TEST_CASE("a partial last line is emitted at the end marked '%'") {
  CHECK(frame(100, {"done\nhalf"}) == Pieces{{"done", '|'}, {"half", '%'}});
  CHECK(frame(4, {"abcdefgh"}) == Pieces{{"abcd", '+'}, {"efgh", '%'}});
  CHECK(frame(100, {"half"}, false) == Pieces{});
}

TEST_CASE("an empty stream and a stream ending in a newline emit no '%' record") {
  CHECK(frame(100, {}) == Pieces{});
  CHECK(frame(100, {"x\n"}) == Pieces{{"x", '|'}});
}

TEST_CASE("shrinking max_line below a buffered tail still makes progress") {
  LineFramer framer(10);
  Pieces out;
  auto emit = [&](std::string_view p, char m) { out.emplace_back(std::string(p), m); };
  framer.feed("abcdefgh", emit);
  framer.set_max_line(4);
  framer.feed("ij\n", emit);
  CHECK(out == Pieces{{"abcdefgh", '+'}, {"ij", '|'}});
}

TEST_CASE("records are formatted with timestamp, optional tag, mark and payload") {
  ByteBuffer buf;
  const std::string ts = "2026-01-02T03:04:05.678";
  append_record(buf, ts, "", '|', "hello");
  append_record(buf, ts, "err", '+', std::string("a\0b", 3));
  CHECK(std::string(buf.view()) ==
        ts + " | hello\n" + ts + " err + " + std::string("a\0b", 3) + "\n");
}

TEST_CASE("original_size_of_records counts the service bytes the records stand for") {
  ByteBuffer buf;
  const std::string ts = "2026-01-02T03:04:05.678";
  append_record(buf, ts, "", '|', "hello");                       // 6
  append_record(buf, ts, "", '+', "abc");                         // 3
  append_record(buf, ts, "", '%', "z");                           // 1
  append_record(buf, ts, "", '!', "luvsup: 3 bytes dropped (x)"); // 0
  CHECK(original_size_of_records(buf.view()) == 10);
  ByteBuffer tagged;
  append_record(tagged, ts, "out", '|', "");      // 1
  append_record(tagged, ts, "err", '+', "12345"); // 5
  CHECK(original_size_of_records(tagged.view()) == 6);
}

TEST_CASE("the timestamp is local time with milliseconds in 23 fixed-width bytes") {
  TimestampCache cache;
  const std::string now(cache.now());
  CHECK(luvsup::log::test::timestamp_well_formed(now));
  timespec t{};
  t.tv_sec = 1700000000;
  t.tv_nsec = 7000000;
  tm local{};
  const time_t secs = t.tv_sec;
  localtime_r(&secs, &local);
  char expected[32];
  std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &local);
  CHECK(std::string(cache.format(t)) == std::string(expected) + ".007");
  t.tv_nsec = 999000000;
  CHECK(std::string(cache.format(t)) == std::string(expected) + ".999");
}
