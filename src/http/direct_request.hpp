// The requests the direct HTTP engine sends itself, without libcurl: plain
// http:// to an IP address or localhost, which is what health probes of a
// local stack ask for. Everything else (https, host names to resolve,
// credentials in the URL) goes through libcurl.
//
// A direct request opens its own connection and sends "Connection: close":
// each probe proves that the server still accepts connections, as
// Kubernetes' and HAProxy's probes do, and no idle connection is kept.
#pragma once

#include "health/probe.hpp"

#include <sys/socket.h>

#include <optional>
#include <string>
#include <vector>

namespace luvsup::http {

struct DirectTarget {
  std::vector<sockaddr_storage> addresses; // tried in order: localhost is 127.0.0.1, then ::1
  std::string host_header;                 // the Host header: the URL's host, and its port unless 80
  std::string path;                        // the request target: path and query, "/" when empty
};

// Where `url` points, when the direct engine can send it; nullopt otherwise.
std::optional<DirectTarget> direct_target(const std::string& url);

// The request's bytes: the request line, Host, User-Agent: luvsup, Accept,
// the spec's headers (one of the same name replaces a default, an empty
// value is sent empty), Content-Length and a default Content-Type when there
// is a body (or the method is POST, as curl does), Connection: close, the body.
std::string request_text(const health::HttpRequestSpec& spec, const DirectTarget& target);

} // namespace luvsup::http
