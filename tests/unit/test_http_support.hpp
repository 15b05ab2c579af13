// Shared helpers for the HTTP engine tests: a private loop that must end with
// every handle closed, and the test HTTP server of tests/helpers/
// http_test_server.py with a self-signed certificate made by the openssl CLI.
#pragma once

#include "health/probe.hpp"
#include "http/http_client.hpp"

#include <doctest/doctest.h>
#include <uv.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

extern char** environ;

namespace luvsup::http::test {

// A private loop. On destruction it runs the close callbacks and checks that
// uv_loop_close succeeds: a handle left open fails the test.
class TestLoop {
public:
  TestLoop() { uv_loop_init(&m_loop); }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;
  ~TestLoop() {
    uv_run(&m_loop, UV_RUN_NOWAIT);
    CHECK_MESSAGE(uv_loop_close(&m_loop) == 0, "a libuv handle was left open");
  }
  uv_loop_t* get() { return &m_loop; }

  // Runs the loop until `done()` holds; false if it still does not after
  // `seconds` (a guard against a hung test, not a timing expectation).
  bool run_until(const std::function<bool()>& done, double seconds = 60.0) {
    bool expired = false;
    uv_timer_t guard;
    start_guard(guard, expired, seconds);
    while (!done() && !expired) {
      uv_run(&m_loop, UV_RUN_ONCE);
    }
    close_guard(guard);
    return done();
  }

  // Runs the loop until nothing keeps it alive; false if something still
  // does after `seconds`.
  bool run_until_idle(double seconds = 60.0) {
    bool expired = false;
    uv_timer_t guard;
    start_guard(guard, expired, seconds);
    uv_unref(reinterpret_cast<uv_handle_t*>(&guard));
    uv_run(&m_loop, UV_RUN_DEFAULT);
    close_guard(guard);
    return !expired;
  }

private:
  void start_guard(uv_timer_t& guard, bool& expired, double seconds) {
    uv_timer_init(&m_loop, &guard);
    guard.data = &expired;
    uv_timer_start(
        &guard,
        [](uv_timer_t* timer) {
          *static_cast<bool*>(timer->data) = true;
          uv_stop(timer->loop);
        },
        static_cast<uint64_t>(seconds * 1000), 0);
  }
  void close_guard(uv_timer_t& guard) {
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&m_loop, UV_RUN_NOWAIT); // runs the close callback
  }

  uv_loop_t m_loop{};
};

// Counts the calls of a ProbeDone and keeps the last result.
struct Outcome {
  int calls = 0;
  health::ProbeResult result;
  health::ProbeDone record() {
    return [this](health::ProbeResult r) {
      ++calls;
      result = std::move(r);
    };
  }
};

// The test HTTP server, started on first use and shared by the tests of this
// process; it exits when this process closes its stdin (or dies).
class TestServer {
public:
  static TestServer& get() {
    static TestServer server;
    return server;
  }
  ~TestServer() {
    ::close(m_stdin); // the server exits on end of file; killed if it has not within 10 s
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (waitpid(m_pid, nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_http) + path;
  }
  std::string tls_url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(m_https) + path;
  }
  std::string silent_url() const { return "http://127.0.0.1:" + std::to_string(m_silent) + "/"; }

private:
  TestServer() {
    namespace fs = std::filesystem;
    fs::path exe = fs::read_symlink("/proc/self/exe");
    fs::path script = exe.parent_path().parent_path() / "tests/helpers/http_test_server.py";
    if (!fs::exists(script)) {
      script = fs::current_path() / "tests/helpers/http_test_server.py";
    }
    REQUIRE_MESSAGE(fs::exists(script), "missing " << script);

    std::string dir = (fs::temp_directory_path() / "luvsup-http-XXXXXX").string();
    REQUIRE(::mkdtemp(dir.data()) != nullptr);
    std::string cert = dir + "/cert.pem";
    std::string key = dir + "/key.pem";
    std::string openssl = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                          "-nodes -days 2 -subj /CN=localhost "
                          "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                          key + " -out " + cert + " >/dev/null 2>&1";
    REQUIRE_MESSAGE(std::system(openssl.c_str()) == 0, "openssl could not make a certificate");

    int in[2];
    int out[2];
    REQUIRE(pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string script_path = script.string();
    const char* argv[] = {"python3", script_path.c_str(), "--cert", cert.c_str(),
                          "--key",   key.c_str(),         nullptr};
    int spawned =
        posix_spawnp(&m_pid, "python3", &actions, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    m_stdin = in[1];
    REQUIRE_MESSAGE(spawned == 0, "cannot run python3");

    std::string line = read_line(out[0]);
    ::close(out[0]);
    fs::remove_all(dir); // the server has loaded the certificate once it printed its ports
    m_http = port(line, "http");
    m_https = port(line, "https");
    m_silent = port(line, "silent");
  }

  // Reads the server's first line (its ports), waiting up to a generous deadline.
  static std::string read_line(int fd) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) {
        continue;
      }
      char buf[256];
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) {
        break;
      }
      line.append(buf, static_cast<size_t>(n));
    }
    REQUIRE_MESSAGE(line.find('\n') != std::string::npos, "the test server did not start");
    return line;
  }

  // The port of `key` in the server's JSON line {"http": 1234, ...}.
  static int port(const std::string& line, const std::string& key) {
    auto at = line.find("\"" + key + "\": ");
    REQUIRE_MESSAGE(at != std::string::npos, "no " << key << " port in " << line);
    return std::stoi(line.substr(at + key.size() + 4));
  }

  pid_t m_pid = -1;
  int m_stdin = -1;
  int m_http = 0;
  int m_https = 0;
  int m_silent = 0;
};

// The engines, as types for TEST_CASE_TEMPLATE: a behaviour both engines
// must show is tested once with each.
struct DirectEngine {
  static constexpr HttpClient::Engines engines = HttpClient::Engines::direct_and_curl;
};
struct CurlEngine {
  static constexpr HttpClient::Engines engines = HttpClient::Engines::curl_only;
};

// A libcurl soname that does not exist.
inline constexpr const char* k_missing_curl = "libluvsup-test-no-such-curl.so.4";

inline health::HttpRequestSpec spec_for(const std::string& url, double timeout = 30) {
  health::HttpRequestSpec spec;
  spec.url = url;
  spec.timeout = timeout;
  return spec;
}

// Runs one request to completion; checks that `done` was not called inline
// and was called exactly once.
inline health::ProbeResult fetch(TestLoop& loop, HttpClient& client,
                                 const health::HttpRequestSpec& spec) {
  Outcome outcome;
  auto pending = client.request(spec, outcome.record());
  CHECK(outcome.calls == 0);
  REQUIRE(loop.run_until([&] { return outcome.calls > 0; }));
  CHECK(outcome.calls == 1);
  return outcome.result;
}

// A TCP port on 127.0.0.1 that refuses connections: bound, never listening.
class RefusingPort {
public:
  RefusingPort() : m_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
  }
  ~RefusingPort() { ::close(m_fd); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/"; }
  [[nodiscard]] int port() const { return m_port; }

private:
  int m_fd;
  int m_port = 0;
};

// A server on the loopback of `family` that answers every connection with
// `response` (nothing when empty) once the request's headers have come, then
// closes it. It runs on a thread of its own until destroyed.
class CannedServer {
public:
  enum class Close { fin, reset };
  CannedServer(int family, std::string response, Close close = Close::fin)
      : m_fd(socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)), m_response(std::move(response)), m_close(close) {
    sockaddr_storage addr{};
    socklen_t len = 0;
    if (family == AF_INET6) {
      auto& in6 = reinterpret_cast<sockaddr_in6&>(addr);
      in6.sin6_family = AF_INET6;
      in6.sin6_addr = in6addr_loopback;
      len = sizeof in6;
    } else {
      auto& in = reinterpret_cast<sockaddr_in&>(addr);
      in.sin_family = AF_INET;
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof in;
    }
    if (m_fd < 0 || bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(m_fd, 16) != 0 ||
        getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return; // listening() says so
    }
    m_port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(addr).sin6_port
                                      : reinterpret_cast<sockaddr_in&>(addr).sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;
  ~CannedServer() {
    if (m_fd >= 0) {
      ::shutdown(m_fd, SHUT_RDWR); // wakes accept()
    }
    if (m_thread.joinable()) {
      m_thread.join();
    }
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  [[nodiscard]] bool listening() const { return m_port != 0; }
  [[nodiscard]] int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/"; }

private:
  void serve() {
    while (true) {
      const int conn = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) {
        return;
      }
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(conn, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        request.append(buf, static_cast<size_t>(n));
      }
      if (!m_response.empty()) {
        (void)!::write(conn, m_response.data(), m_response.size());
      }
      if (m_close == Close::reset) {
        const linger abortive{1, 0};
        ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
      }
      ::close(conn);
    }
  }

  int m_fd;
  std::string m_response;
  Close m_close;
  int m_port = 0;
  std::thread m_thread;
};

} // namespace luvsup::http::test
