// The tcp probe: passes when a TCP connection to host:port is accepted within
// the timeout; the connection is closed at once.
#pragma once

#include "health/probe.hpp"

#include <uv.h>

#include <memory>
#include <string>

namespace luvsup::health {

// Starts a connect to `host` (an IPv4 or IPv6 address) and `port`. `done`
// runs once from a loop callback: ok, or the error ("connection refused",
// "timed out after 1s").
std::unique_ptr<PendingProbe> start_tcp_probe(uv_loop_t* loop, const std::string& host, int port,
                                              double timeout, ProbeDone done);

} // namespace luvsup::health
