// Tests ServiceOutput end to end on a real loop with real pipes and files:
// framing, exact reconstruction, separate streams, detach and re-attach.
#include "log/service_output.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <thread>

using namespace luvsup;
using namespace luvsup::log;
using namespace luvsup::log::test;

namespace {

core::LogSpec spec_for(const std::string& file) {
  core::LogSpec spec;
  spec.file = file;
  return spec;
}

} // namespace

TEST_CASE("service output reaches the log file framed, byte-exact, with marks") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("logs/svc.log"));
  spec.max_line = 16;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  out.attach(p.take_read(), -1);
  const std::string nul = std::string("nul\0byte", 8);
  const std::string input = "hello\n" + nul + "\n\xff\xfe bad utf8\ncrlf\r\n" +
                            std::string(40, 'L') + "\n" + "tail without newline";
  write_all(p.w, input);
  p.close_w();
  finish(loop, out);
  const auto records = parse_records(read_file(spec.file), false);
  REQUIRE(records.size() == 9);
  CHECK(records[0].mark == '|');
  CHECK(records[0].payload == "hello");
  CHECK(records[1].payload == nul);
  CHECK(records[2].payload == "\xff\xfe bad utf8");
  CHECK(records[3].payload == "crlf\r");
  CHECK(records[4].mark == '+');
  CHECK(records[4].payload == std::string(16, 'L'));
  CHECK(records[5].mark == '+');
  CHECK(records[6].mark == '|');
  CHECK(records[6].payload == std::string(8, 'L'));
  CHECK(records[7].mark == '+');
  CHECK(records[7].payload == "tail without new");
  CHECK(records[8].mark == '%');
  CHECK(records[8].payload == "line");
  for (const auto& r : records) {
    CHECK(timestamp_well_formed(r.timestamp));
  }
  CHECK(reconstruct(records) == input);
}

TEST_CASE("random binary output is reconstructed exactly from the log file") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("svc.log"));
  spec.max_line = 1000;
  spec.max_size = 0;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  out.attach(p.take_read(), -1);
  std::mt19937 rng(42);
  std::string input(4 << 20, '\0');
  for (auto& c : input) {
    const unsigned v = rng() % 600;
    c = v < 3 ? '\n' : static_cast<char>(v & 0xff); // lines of all lengths, some over max_line
  }
  std::thread producer([&] {
    write_all(p.w, input);
    p.close_w();
  });
  finish(loop, out);
  producer.join();
  CHECK(out.dropped_bytes() == 0);
  const std::string text = read_file(spec.file);
  CHECK(reconstruct(parse_records(text, false)) == input);
}

TEST_CASE("separated streams share the file tagged out and err") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("svc.log"));
  spec.separate_stderr = true;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe o;
  TestPipe e;
  out.attach(o.take_read(), e.take_read());
  write_all(o.w, "to stdout\nmore out\n");
  write_all(e.w, "to stderr\npartial err");
  o.close_w();
  e.close_w();
  finish(loop, out);
  const auto records = parse_records(read_file(spec.file), true);
  CHECK(records.size() == 4);
  CHECK(reconstruct(records, "out") == "to stdout\nmore out\n");
  CHECK(reconstruct(records, "err") == "to stderr\npartial err");
}

TEST_CASE("stderr goes to its own file, untagged, when stderr_file is set") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("out.log"));
  spec.separate_stderr = true;
  spec.stderr_file = dir.path("err.log");
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe o;
  TestPipe e;
  out.attach(o.take_read(), e.take_read());
  write_all(o.w, "out line\n");
  write_all(e.w, "err line\n");
  o.close_w();
  e.close_w();
  finish(loop, out);
  CHECK(reconstruct(parse_records(read_file(spec.file), false)) == "out line\n");
  CHECK(reconstruct(parse_records(read_file(spec.stderr_file), false)) == "err line\n");
}

TEST_CASE("detach reads what the pipe holds and marks the unfinished line") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("svc.log"));
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  out.attach(p.take_read(), -1);
  write_all(p.w, "whole\nhalf");
  out.detach(); // without running the loop: the bytes are still in the pipe
  CHECK(!out.capturing());
  bool flushed = false;
  out.flush([&] { flushed = true; });
  REQUIRE(loop.run_until([&] { return flushed; }));
  const auto records = parse_records(read_file(spec.file), false);
  REQUIRE(records.size() == 2);
  CHECK(records[1].mark == '%');
  CHECK(reconstruct(records) == "whole\nhalf");
}

TEST_CASE("a restarted process appends to the same log and the closed callback fires") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("svc.log"));
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  int closed = 0;
  out.set_closed_callback([&] { ++closed; });
  for (const char* text : {"first run\n", "second run\n"}) {
    TestPipe p;
    out.attach(p.take_read(), -1);
    write_all(p.w, text);
    p.close_w();
    REQUIRE(loop.run_until([&] { return !out.capturing(); }));
  }
  CHECK(closed == 2);
  finish(loop, out);
  CHECK(reconstruct(parse_records(read_file(spec.file), false)) == "first run\nsecond run\n");
}

TEST_CASE("rotation through the service output loses no line") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("svc.log"));
  spec.max_size = 64 * 1024;
  spec.keep = 100;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  out.attach(p.take_read(), -1);
  std::string input;
  for (int i = 0; i < 20000; ++i) {
    input += "line " + std::to_string(i) + " of the rotation test\n";
  }
  std::thread producer([&] {
    write_all(p.w, input);
    p.close_w();
  });
  finish(loop, out);
  producer.join();
  std::string all;
  for (int i = 100; i >= 1; --i) {
    const std::string name = spec.file + "." + std::to_string(i);
    if (std::filesystem::exists(name)) {
      const std::string text = read_file(name);
      CHECK(text.size() <= spec.max_size);
      all += text;
    }
  }
  CHECK(std::filesystem::exists(spec.file + ".5"));
  all += read_file(spec.file);
  CHECK(reconstruct(parse_records(all, false)) == input);
}

TEST_CASE("a line observer sees each record of both streams until it returns true") {
  TempDir dir;
  Loop loop;
  auto spec = spec_for(dir.path("svc.log"));
  spec.separate_stderr = true;
  spec.max_line = 8;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe o, e;
  out.attach(o.take_read(), e.take_read());
  std::vector<std::string> seen;
  out.set_line_observer([&](std::string_view record) {
    seen.emplace_back(record);
    return record == "READY";
  });
  write_all(o.w, "starting\nlong line here\n");
  REQUIRE(loop.run_until([&] { return seen.size() == 3; }));
  write_all(e.w, "READY\nafter\n");
  write_all(o.w, "more\n");
  o.close_w();
  e.close_w();
  finish(loop, out);
  // "long line here" is cut at max_line: the observer sees the pieces.
  CHECK(seen == std::vector<std::string>{"starting", "long lin", "e here", "READY"});
  // The log itself is unaffected.
  CHECK(reconstruct(parse_records(read_file(spec.file), true)) ==
        "starting\nlong line here\nREADY\nafter\nmore\n");
}

TEST_CASE("a line observer set after attach does not see the previous process's last lines") {
  TempDir dir;
  Loop loop;
  ServiceOutput out(loop.get(), "svc", spec_for(dir.path("svc.log")), nullptr);
  TestPipe first;
  out.attach(first.take_read(), -1);
  write_all(first.w, "old line\nold tail");
  first.close_w();
  TestPipe second;
  out.attach(second.take_read(), -1);  // drains "old line" and "old tail"
  std::vector<std::string> seen;
  out.set_line_observer([&](std::string_view record) {
    seen.emplace_back(record);
    return false;
  });
  write_all(second.w, "new line\n");
  second.close_w();
  finish(loop, out);
  CHECK(seen == std::vector<std::string>{"new line"});
  out.set_line_observer(nullptr);  // removing it is allowed at any time
}
