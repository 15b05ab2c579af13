#include "health/tcp_probe.hpp"

#include "uv/tcp_connect.hpp"
#include "uv/timer.hpp"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace luvsup::health {

namespace {

// "connection refused" from UV_ECONNREFUSED: libuv's message, lower-cased.
std::string error_text(int status) {
  std::string text = uv_strerror(status);
  if (!text.empty()) {
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

class TcpProbe final : public PendingProbe {
public:
  TcpProbe(uv_loop_t* loop, double timeout, ProbeDone done)
      : m_timeout(timeout), m_done(std::move(done)), m_timer(loop), m_connect(std::in_place, loop) {
  }

  void start(const std::string& host, int port) {
    m_started = uv_hrtime();
    sockaddr_storage addr{};
    int rc = uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
    if (rc != 0) {
      rc = uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
    }
    if (rc == 0) {
      rc = m_connect->start(reinterpret_cast<const sockaddr*>(&addr),
                            [this](int status) { connected(status); });
    }
    if (rc != 0) {
      // Report from the loop, never inline.
      m_timer.start(0, [this, rc] { finish(false, error_text(rc), false); });
      return;
    }
    m_timer.start(m_timeout,
                  [this] { finish(false, fmt::format("timed out after {}s", m_timeout), true); });
  }

private:
  void connected(int status) {
    if (status == 0) {
      finish(true, {}, false);
    } else {
      finish(false, error_text(status), false);
    }
  }

  void finish(bool ok, std::string error, bool timed_out) {
    m_timer.stop();
    m_connect.reset(); // closes the connection (or cancels the attempt)
    ProbeResult result;
    result.ok = ok;
    result.error = std::move(error);
    result.timed_out = timed_out;
    result.latency = static_cast<double>(uv_hrtime() - m_started) / 1e9;
    auto done = std::move(m_done); // may destroy this probe
    if (done) {
      done(std::move(result));
    }
  }

  double m_timeout;
  ProbeDone m_done;
  uv::Timer m_timer;
  std::optional<uv::TcpConnect> m_connect;
  uint64_t m_started = 0;
};

} // namespace

std::unique_ptr<PendingProbe> start_tcp_probe(uv_loop_t* loop, const std::string& host, int port,
                                              double timeout, ProbeDone done) {
  auto probe = std::make_unique<TcpProbe>(loop, timeout, std::move(done));
  probe->start(host, port);
  return probe;
}

} // namespace luvsup::health
