// Tests the lossless and never-blocking guarantees of service logs on a real
// loop: back-pressure, failing disks, stalled writes and teardown mid-write.
#include "log/service_output.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

using namespace luvsup;
using namespace luvsup::log;
using namespace luvsup::log::test;

namespace {

std::string numbered_lines(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    std::string line = "line " + std::to_string(i) + " ";
    line.resize(63, 'x');
    out += line + "\n";
  }
  return out;
}

// The read end of a FIFO, drained by a thread once started.
class FifoDrain {
public:
  explicit FifoDrain(const std::string& path) {
    REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
    m_fd =
        ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC); // the writer won't block in open
    REQUIRE(m_fd >= 0);
  }
  ~FifoDrain() {
    stop();
    ::close(m_fd);
  }
  void start() {
    m_thread = std::thread([this] {
      char buf[65536];
      for (;;) {
        pollfd pfd{m_fd, POLLIN, 0};
        ::poll(&pfd, 1, 10);
        const ssize_t n = ::read(m_fd, buf, sizeof buf);
        if (n > 0) {
          m_text.append(buf, static_cast<size_t>(n));
        } else if (m_stop.load()) {
          return; // asked to stop and nothing more to read
        }
      }
    });
  }
  // Waits for the thread after the last write is known to be in the FIFO.
  const std::string& stop() {
    m_stop = true;
    if (m_thread.joinable()) {
      m_thread.join();
    }
    return m_text;
  }

private:
  int m_fd = -1;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::string m_text;
};

// Captures luvsup's own log messages for the duration of a test.
class CapturedLog {
public:
  CapturedLog() : m_sink(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100)) {
    m_previous = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("test", m_sink);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(m_previous); }
  [[nodiscard]] bool contains(const std::string& text) const {
    for (const auto& line : m_sink->last_formatted()) {
      if (line.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> m_sink;
  std::shared_ptr<spdlog::logger> m_previous;
};

} // namespace

TEST_CASE("a log writer that falls behind stops the pipe, and nothing is lost once it catches up") {
  TempDir dir;
  Loop loop;
  core::LogSpec spec;
  spec.file = dir.path("svc.fifo");
  spec.stall_timeout = 0; // never give up on the writer in this test
  FifoDrain drain(spec.file);
  auto out = std::make_unique<ServiceOutput>(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
  out->attach(p.take_read(), -1);
  const std::string input = numbered_lines(60000); // 3.8 MB
  size_t sent = 0;
  // Feed until luvsup holds the pipe back and the pipe is full.
  REQUIRE(loop.run_until([&] {
    while (sent < input.size() && p.push(input, sent)) {
    }
    return out->held_back() && sent < input.size() && !p.push(input, sent);
  }));
  CHECK(sent < input.size());
  // While held back nobody reads the pipe: it stays full however long the loop runs.
  for (int i = 0; i < 50; ++i) {
    uv_run(loop.get(), UV_RUN_NOWAIT);
  }
  CHECK(out->held_back());
  CHECK(!p.push(input, sent));
  drain.start();
  REQUIRE(loop.run_until(
      [&] {
        while (sent < input.size() && p.push(input, sent)) {
        }
        return sent == input.size();
      },
      30));
  p.close_w();
  finish(loop, *out);
  CHECK(out->dropped_bytes() == 0);
  CHECK(reconstruct(parse_records(drain.stop(), false)) == input);
}

TEST_CASE("a failing disk is reported, output is dropped, and a marker follows recovery") {
  TempDir dir;
  CapturedLog log;
  Loop loop;
  core::LogSpec spec;
  spec.file = "/dev/full";
  spec.stall_timeout = 0.5;  // how long output is held before it is dropped
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
  out.attach(p.take_read(), -1);
  size_t sent = 0;
  const std::string lost = "lost one\nlost two\n";
  REQUIRE(p.push(lost, sent));
  REQUIRE(loop.run_until([&] { return out.dropped_bytes() == lost.size(); }));
  CHECK(log.contains("warning svc: log write failed: /dev/full: No space left on device; holding "
                     "output for up to 0.5 s"));
  CHECK(log.contains("error svc: log write failed: /dev/full: No space left on device; output is "
                     "dropped until it recovers"));
  // Still reading: the service is not blocked by the broken disk.
  const std::string kept = "kept line\n";
  sent = 0;
  REQUIRE(p.push(kept, sent));
  REQUIRE(loop.run_until([&] { return !out.held_back(); }));
  spec.file = dir.path("svc.log"); // the user points the log somewhere that works
  out.update(spec);
  p.close_w();
  finish(loop, out);
  const auto records = parse_records(read_file(spec.file), false);
  REQUIRE(!records.empty());
  CHECK(records[0].mark == '!');
  CHECK(records[0].payload ==
        "luvsup: 18 bytes dropped (log write failed: No space left on device)");
  CHECK(reconstruct(records) == kept);
  CHECK(log.contains("info svc: log writing recovered; 18 bytes dropped"));
}

TEST_CASE("writing is retried and recovers by itself once the disk works again") {
  TempDir dir;
  CapturedLog log;
  Loop loop;
  std::string blocker;
  core::LogSpec spec;
  spec.file = blocked_log_path(dir, blocker);
  spec.stall_timeout = 0.5;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
  out.attach(p.take_read(), -1);
  size_t sent = 0;
  REQUIRE(p.push(std::string("early\n"), sent));
  REQUIRE(loop.run_until([&] { return out.dropped_bytes() == 6; }));
  CHECK(log.contains("log write failed: " + spec.file + ": Not a directory"));
  std::filesystem::remove(blocker);
  REQUIRE(loop.run_until([&] { return std::filesystem::exists(spec.file); }, 5));
  const std::string later = "later\n";
  sent = 0;
  REQUIRE(p.push(later, sent));
  p.close_w();
  finish(loop, out);
  const auto records = parse_records(read_file(spec.file), false);
  REQUIRE(records.size() == 2);
  CHECK(records[0].payload == "luvsup: 6 bytes dropped (log write failed: Not a directory)");
  CHECK(reconstruct(records) == later);
}

TEST_CASE("a stalled write releases the pipe, drops with a count, and marks the hole") {
  TempDir dir;
  CapturedLog log;
  Loop loop;
  core::LogSpec spec;
  spec.file = dir.path("svc.fifo");
  spec.stall_timeout = 0.2;
  FifoDrain drain(spec.file);
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
  out.attach(p.take_read(), -1);
  const std::string input = numbered_lines(200000);
  size_t sent = 0;
  // The FIFO fills, the write job blocks, the stall timeout passes, input is dropped.
  REQUIRE(loop.run_until([&] {
    while (sent < input.size() && p.push(input, sent)) {
    }
    return out.dropped_bytes() > 0;
  }));
  CHECK(log.contains("stalled for more than 0.2 s"));
  CHECK(!out.held_back());
  drain.start();
  REQUIRE(loop.run_until(
      [&] {
        while (sent < input.size() && p.push(input, sent)) {
        }
        return sent == input.size();
      },
      30));
  p.close_w();
  finish(loop, out);
  const auto records = parse_records(drain.stop(), false);
  size_t marker = records.size();
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].mark == '!') {
      REQUIRE(marker == records.size()); // exactly one hole
      marker = i;
    }
  }
  REQUIRE(marker < records.size());
  const uint64_t dropped = out.dropped_bytes();
  CHECK(records[marker].payload == "luvsup: " + std::to_string(dropped) +
                                       " bytes dropped (log write stalled for more than 0.2 s)");
  const std::string before =
      reconstruct(std::vector<Record>(records.begin(), records.begin() + marker));
  const std::string after =
      reconstruct(std::vector<Record>(records.begin() + marker + 1, records.end()));
  CHECK(before.size() + dropped + after.size() == input.size());
  CHECK(input.compare(0, before.size(), before) == 0);
  CHECK(input.compare(input.size() - after.size(), after.size(), after) == 0);
}

TEST_CASE("destroying the service output mid-write still writes every pending byte") {
  TempDir dir;
  core::LogSpec spec;
  spec.file = dir.path("svc.fifo");
  spec.stall_timeout = 0;
  FifoDrain drain(spec.file);
  const std::string input = numbered_lines(5000); // 320 KB: more than the FIFO holds
  {
    Loop loop;
    auto out = std::make_unique<ServiceOutput>(loop.get(), "svc", spec, nullptr);
    TestPipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
    out->attach(p.take_read(), -1);
    size_t sent = 0;
    REQUIRE(loop.run_until([&] {
      while (sent < input.size() && p.push(input, sent)) {
      }
      if (sent == input.size()) {
        p.close_w();
      }
      return !out->capturing();
    }));
    out.reset(); // the write job is stuck on the full FIFO right now
    drain.start();
  } // the loop runs until the background write is done
  CHECK(reconstruct(parse_records(drain.stop(), false)) == input);
}

TEST_CASE("a brief write error loses nothing: output is held until the disk works again") {
  TempDir dir;
  CapturedLog log;
  Loop loop;
  std::string blocker;
  core::LogSpec spec;
  spec.file = blocked_log_path(dir, blocker);
  spec.stall_timeout = 30;
  ServiceOutput out(loop.get(), "svc", spec, nullptr);
  TestPipe p;
  ::fcntl(p.w, F_SETFL, O_NONBLOCK);
  out.attach(p.take_read(), -1);
  size_t sent = 0;
  const std::string text = "first\nsecond\n";
  REQUIRE(p.push(text, sent));
  REQUIRE(loop.run_until([&] { return log.contains("holding output for up to 30 s"); }));
  std::filesystem::remove(blocker);  // the disk "recovers" within the hold
  REQUIRE(loop.run_until([&] { return std::filesystem::exists(spec.file); }, 5));
  p.close_w();
  finish(loop, out);
  CHECK(out.dropped_bytes() == 0);
  const auto records = parse_records(read_file(spec.file), false);
  CHECK(reconstruct(records) == text);
  CHECK_FALSE(log.contains("dropped"));
}
