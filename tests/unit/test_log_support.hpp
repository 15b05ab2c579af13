// Shared helpers for the log pipeline tests: a temp dir, a loop that must end
// with every handle closed, polling with deadlines, and a parser for the log
// record format written independently of the code under test.
#pragma once

#include <doctest/doctest.h>
#include <utility>
#include <algorithm>
#include <fcntl.h>
#include <uv.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "log/service_output.hpp"

#include <fstream>

namespace luvsup::log::test {

class TempDir {
public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "luvsup-log-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    m_path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  [[nodiscard]] std::string path(const std::string& name) const { return (m_path / name).string(); }

private:
  std::filesystem::path m_path;
};

// A private loop; on destruction it runs until every handle and request is
// done and checks that the loop closes cleanly (nothing leaked).
class Loop {
public:
  Loop() { uv_loop_init(&m_loop); }
  ~Loop() {
    // Background writes must finish; anything still active after that leaked.
    run_until([this] { return m_loop.active_handles <= 1 && m_loop.active_reqs.count == 0; }, 20);
    for (int i = 0; i < 10; ++i) {
      uv_run(&m_loop, UV_RUN_NOWAIT);
    }
    CHECK(uv_loop_close(&m_loop) == 0);
  }
  uv_loop_t* get() { return &m_loop; }

  // Runs the loop until `done()` holds or `seconds` pass; returns done().
  bool run_until(const std::function<bool()>& done, double seconds = 10.0) {
    uv_timer_t tick;
    uv_timer_init(&m_loop, &tick);
    uv_timer_start(
        &tick, [](uv_timer_t*) {}, 2, 2); // so UV_RUN_ONCE returns often
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      uv_run(&m_loop, UV_RUN_ONCE);
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_run(&m_loop, UV_RUN_NOWAIT); // runs the close callback
    return done();
  }

private:
  uv_loop_t m_loop{};
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Record {
  std::string timestamp;
  std::string tag; // "", "out" or "err"
  char mark = 0;
  std::string payload;
};

// Parses a log file; fails the test on anything that is not a record.
inline std::vector<Record> parse_records(const std::string& text, bool tagged) {
  std::vector<Record> records;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    REQUIRE(nl != std::string::npos);
    std::string line = text.substr(at, nl - at);
    at = nl + 1;
    Record r;
    const size_t head = tagged ? 30 : 26;
    REQUIRE(line.size() >= head);
    r.timestamp = line.substr(0, 23);
    REQUIRE(line[23] == ' ');
    size_t pos = 24;
    if (tagged) {
      r.tag = line.substr(24, 3);
      REQUIRE(line[27] == ' ');
      pos = 28;
    }
    r.mark = line[pos];
    REQUIRE(line[pos + 1] == ' ');
    r.payload = line.substr(pos + 2);
    records.push_back(std::move(r));
  }
  return records;
}

// The original stream: payloads concatenated, "\n" after each '|' record.
inline std::string reconstruct(const std::vector<Record>& records, const std::string& tag = "") {
  std::string out;
  for (const auto& r : records) {
    if ((!tag.empty() && r.tag != tag) || r.mark == '!') {
      continue;
    }
    out += r.payload;
    if (r.mark == '|') {
      out += '\n';
    }
  }
  return out;
}

inline bool timestamp_well_formed(const std::string& ts) {
  if (ts.size() != 23) {
    return false;
  }
  for (size_t i = 0; i < ts.size(); ++i) {
    const char c = ts[i];
    const bool ok = i == 4 || i == 7     ? c == '-'
                    : i == 10            ? c == 'T'
                    : i == 13 || i == 16 ? c == ':'
                    : i == 19            ? c == '.'
                                         : (c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Writes all of `data` to a blocking fd.
inline void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      return;
    }
    done += static_cast<size_t>(n);
  }
}


// A pipe between a test and the code under test. The test keeps the write
// end; the read end is closed with the pipe unless handed over with
// take_read() (ServiceOutput::attach takes ownership of what it gets).
struct TestPipe {
  int r = -1;
  int w = -1;
  TestPipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    r = fds[0];
    w = fds[1];
  }
  TestPipe(const TestPipe&) = delete;
  TestPipe& operator=(const TestPipe&) = delete;
  ~TestPipe() {
    close_w();
    if (r >= 0) {
      ::close(r);
    }
  }
  int take_read() { return std::exchange(r, -1); }
  void close_w() {
    if (w >= 0) {
      ::close(w);
      w = -1;
    }
  }
  // Writes as much of `data` from `offset` as fits now; false when the pipe is
  // full (the write end must be non-blocking).
  bool push(const std::string& data, size_t& offset) {
    const ssize_t n =
        ::write(w, data.data() + offset, std::min<size_t>(data.size() - offset, 4096));
    if (n > 0) {
      offset += static_cast<size_t>(n);
      return true;
    }
    return false;
  }
  // Reads what the pipe holds now without waiting.
  std::string read_now() const {
    std::string out;
    char buf[65536];
    const int flags = ::fcntl(r, F_GETFL);
    ::fcntl(r, F_SETFL, flags | O_NONBLOCK);
    for (ssize_t n; (n = ::read(r, buf, sizeof buf)) > 0;) {
      out.append(buf, static_cast<size_t>(n));
    }
    ::fcntl(r, F_SETFL, flags);
    return out;
  }
};

// Runs the loop until capture ended and everything is on disk.
inline void finish(Loop& loop, ServiceOutput& out) {
  REQUIRE(loop.run_until([&] { return !out.capturing(); }));
  bool flushed = false;
  out.flush([&] { flushed = true; });
  REQUIRE(loop.run_until([&] { return flushed; }));
}

// A log path whose directory cannot be created (a file stands where the
// directory should be) until the returned blocker file is removed.
inline std::string blocked_log_path(TempDir& dir, std::string& blocker) {
  blocker = dir.path("logs");
  std::ofstream(blocker) << "a file where the log directory should be";
  return blocker + "/svc.log";
}

} // namespace luvsup::log::test
