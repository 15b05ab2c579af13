// One request of the direct HTTP engine (see direct_request.hpp): a fresh
// non-blocking TCP socket watched by the DirectEngine, the request written
// as soon as it is connected, the response read by ResponseParser, all
// within the spec's timeout. A localhost request that cannot connect to
// 127.0.0.1 tries ::1.
//
// `done` runs once, from a loop callback (never inside the constructor),
// unless the exchange is destroyed first: that closes the socket and `done`
// is not called. The result reads as libcurl's engine would report it
// (failure_text.hpp). A finished exchange closes its socket with a RST
// (SO_LINGER 0): the exchange is over, so neither side keeps a TIME_WAIT
// socket for it, and the kernel handles half the packets of a FIN.
#pragma once

#include "health/probe.hpp"
#include "http/direct_engine.hpp"
#include "http/direct_request.hpp"
#include "http/response_parser.hpp"
#include "os/unique_fd.hpp"
#include "uv/timer.hpp"

#include <cstdint>
#include <string>

namespace luvsup::http {

class DirectExchange {
public:
  DirectExchange(DirectEngine& engine, DirectTarget target, const health::HttpRequestSpec& spec,
                 health::ProbeDone done);
  DirectExchange(const DirectExchange&) = delete;
  DirectExchange& operator=(const DirectExchange&) = delete;
  ~DirectExchange();

  // The socket is ready for `events` (UV_READABLE, UV_WRITABLE; both on an
  // error or hang-up). Called by the engine.
  void on_ready(int events);

private:
  enum class Stage { connecting, sending, receiving, done };

  void connect_next();
  void connected();
  void send();
  void receive();
  void succeed();
  void fail(std::string error, bool timed_out = false);
  void note_connect_error(int error);
  void close_socket();
  void finish(health::ProbeResult result);

  DirectEngine& m_engine;
  DirectTarget m_target;
  size_t m_next_address = 0;
  std::string m_request;
  size_t m_sent = 0;
  double m_timeout;
  uint64_t m_started_ns;
  ResponseParser m_parser;
  health::ProbeDone m_done;
  Stage m_stage = Stage::connecting;
  os::UniqueFd m_socket;
  int m_connect_error = 0; // see note_connect_error
  uv::Timer m_timer;       // the timeout, or the report of a connect that failed at once
};

} // namespace luvsup::http
