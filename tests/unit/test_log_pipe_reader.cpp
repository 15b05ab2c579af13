#include "log/pipe_reader.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace luvsup::log;
using namespace luvsup::log::test;

namespace {

// A reader that collects what it reads and how its pipe ended.
struct Collector {
  std::string data;
  int end_status = 1;  // 1: not ended yet
  PipeReader reader{[this](std::string_view chunk) { data.append(chunk); },
                    [this](int status) { end_status = status; }};
};

std::string pattern(char first, size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>(first + static_cast<char>(i % 23));
  }
  return out;
}

}  // namespace

TEST_CASE("readers on one loop share the read buffer and each gets exactly its own bytes") {
  Loop loop;
  TestPipe a_pipe, b_pipe;
  Collector a, b;
  REQUIRE(a.reader.open(loop.get(), a_pipe.take_read()) == 0);
  REQUIRE(b.reader.open(loop.get(), b_pipe.take_read()) == 0);
  // More than one buffer's worth each, written in turns, so reads interleave.
  const std::string a_bytes = pattern('a', PipeReader::k_buffer_size + 4096);
  const std::string b_bytes = pattern('A', PipeReader::k_buffer_size + 8192);
  size_t a_done = 0, b_done = 0;
  while (a_done < a_bytes.size() || b_done < b_bytes.size()) {
    const size_t a_part = std::min<size_t>(16384, a_bytes.size() - a_done);
    const size_t b_part = std::min<size_t>(16384, b_bytes.size() - b_done);
    write_all(a_pipe.w, a_bytes.substr(a_done, a_part));
    write_all(b_pipe.w, b_bytes.substr(b_done, b_part));
    a_done += a_part;
    b_done += b_part;
    loop.run_until([&] { return a.data.size() == a_done && b.data.size() == b_done; });
  }
  a_pipe.close_w();
  b_pipe.close_w();
  REQUIRE(loop.run_until([&] { return a.end_status != 1 && b.end_status != 1; }));
  CHECK(a.end_status == 0);
  CHECK(b.end_status == 0);
  CHECK(a.data == a_bytes);
  CHECK(b.data == b_bytes);
  a.reader.close();
  b.reader.close();
}

TEST_CASE("drain reads what the pipe holds, up to the limit, without the loop running") {
  Loop loop;
  TestPipe pipe;
  Collector c;
  REQUIRE(c.reader.open(loop.get(), pipe.take_read()) == 0);
  write_all(pipe.w, "first chunk, then more");
  c.reader.drain(11);
  CHECK(c.data == "first chunk");
  c.reader.drain(1024);
  CHECK(c.data == "first chunk, then more");
  c.reader.close();
}
