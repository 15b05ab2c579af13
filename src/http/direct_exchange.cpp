#include "http/direct_exchange.hpp"

#include "http/ascii_case.hpp"
#include "http/failure_text.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace luvsup::http {

namespace {

constexpr size_t k_read_buffer_size = 64 * 1024;
// Reads of one readiness report: 1 MiB, then the socket waits its turn again.
constexpr int k_reads_per_event = 16;

// One buffer for every exchange, made on the first read: a chunk is parsed
// as soon as it is read, and only the loop's thread reads.
char* shared_read_buffer() {
  static const auto buffer = std::make_unique_for_overwrite<char[]>(k_read_buffer_size);
  return buffer.get();
}

std::string connect_error_text(int error) {
  return error == ECONNREFUSED ? std::string("connection refused")
                               : "could not connect: " + std::string(std::strerror(error));
}

} // namespace

DirectExchange::DirectExchange(DirectEngine& engine, DirectTarget target,
                               const health::HttpRequestSpec& spec, health::ProbeDone done)
    : m_engine(engine), m_target(std::move(target)), m_request(request_text(spec, m_target)),
      m_timeout(spec.timeout), m_started_ns(uv_hrtime()),
      m_parser({.max_body = spec.max_body, .keep_headers = spec.keep_headers, .head = equal_nocase(spec.method, "HEAD")}),
      m_done(std::move(done)), m_timer(engine.loop()) {
  if (m_timeout > 0) {
    m_timer.start(m_timeout, [this] { fail(timed_out_text(m_timeout), true); });
  }
  connect_next();
}

DirectExchange::~DirectExchange() { close_socket(); }

void DirectExchange::connect_next() {
  while (m_next_address < m_target.addresses.size()) {
    const sockaddr_storage& addr = m_target.addresses[m_next_address++];
    close_socket();
    m_socket.reset(::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!m_socket) {
      note_connect_error(errno);
      continue;
    }
    const socklen_t length = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::connect(m_socket.get(), reinterpret_cast<const sockaddr*>(&addr), length) == 0 ||
        errno == EINPROGRESS) {
      const int rc = m_engine.watch(m_socket.get(), UV_WRITABLE, *this);
      if (rc == 0) {
        return; // connected() runs when the socket is writable
      }
      note_connect_error(-rc);
      continue;
    }
    note_connect_error(errno); // localhost: the server may listen on ::1 only
  }
  close_socket();
  // Reported from the loop, never inside the constructor. The exchange ends
  // with it, so the timeout's timer serves.
  m_stage = Stage::done;
  m_timer.start(0, [this] { fail(connect_error_text(m_connect_error)); });
}

void DirectExchange::note_connect_error(int error) {
  // The first address's error is the one to report (127.0.0.1's for
  // localhost: ::1 may not even exist), unless a later one was refused.
  if (m_connect_error == 0 || error == ECONNREFUSED) {
    m_connect_error = error;
  }
}

void DirectExchange::on_ready(int) {
  switch (m_stage) {
  case Stage::connecting:
    connected();
    break;
  case Stage::sending:
    send();
    break;
  case Stage::receiving:
    receive();
    break;
  case Stage::done:
    break;
  }
}

void DirectExchange::connected() {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(m_socket.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    error = errno;
  }
  if (error != 0) {
    note_connect_error(error);
    if (m_next_address < m_target.addresses.size()) {
      connect_next();
    } else {
      fail(connect_error_text(m_connect_error));
    }
    return;
  }
  m_stage = Stage::sending;
  send();
}

void DirectExchange::send() {
  while (m_sent < m_request.size()) {
    const ssize_t n = ::send(m_socket.get(), m_request.data() + m_sent, m_request.size() - m_sent, MSG_NOSIGNAL);
    if (n > 0) {
      m_sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return; // watched for writable still
    }
    break; // a server may answer before it reads the whole request and close: read what it said
  }
  m_stage = Stage::receiving;
  m_request.clear();
  m_request.shrink_to_fit();
  if (const int rc = m_engine.watch(m_socket.get(), UV_READABLE, *this); rc != 0) {
    fail("cannot watch the connection: " + std::string(std::strerror(-rc)));
  }
}

void DirectExchange::receive() {
  char* buffer = shared_read_buffer();
  // Until the socket is drained, within bounds: while the set is busy the
  // next pass comes only after a pause, which a large body would pay per read.
  for (int reads = 0; reads < k_reads_per_event; ++reads) {
    const ssize_t n = ::read(m_socket.get(), buffer, k_read_buffer_size);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) {
        continue;
      }
      if (error == EAGAIN || error == EWOULDBLOCK) {
        return;
      }
      // A reset reads as libcurl reports it: the same event as a close
      // without an answer, seen a moment later.
      fail(error == ECONNRESET || error == EPIPE
               ? std::string(k_closed_without_answer)
               : "the connection broke before the response was complete: " + std::string(std::strerror(error)));
      return;
    }
    if (n == 0) {
      m_parser.finish();
    } else if (m_parser.feed(std::string_view(buffer, static_cast<size_t>(n)))) {
      continue; // more to come
    }
    if (m_parser.complete()) {
      succeed();
    } else {
      fail(m_parser.error());
    }
    return;
  }
}

void DirectExchange::succeed() {
  health::ProbeResult result;
  result.ok = true;
  result.status = m_parser.status();
  result.output = std::move(m_parser.body());
  result.headers = std::move(m_parser.headers());
  finish(std::move(result));
}

void DirectExchange::fail(std::string error, bool timed_out) {
  health::ProbeResult result;
  result.error = std::move(error);
  result.timed_out = timed_out;
  finish(std::move(result));
}

void DirectExchange::close_socket() {
  if (!m_socket) {
    return;
  }
  m_engine.remove(m_socket.get());
  const linger abortive{1, 0};
  ::setsockopt(m_socket.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  m_socket.reset();
}

void DirectExchange::finish(health::ProbeResult result) {
  m_stage = Stage::done;
  m_timer.stop();
  close_socket();
  result.latency = static_cast<double>(uv_hrtime() - m_started_ns) / 1e9;
  auto done = std::move(m_done); // may destroy this exchange
  m_done = nullptr;
  if (done) {
    done(std::move(result));
  }
}

} // namespace luvsup::http
