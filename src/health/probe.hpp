// The result of one health probe, and the handle of a probe in flight.
//
// Probe I/O (TCP connect, HTTP request, exec) is C++; what a result means is
// decided by a Lua verdict (lua/luvsup/health.lua). Every probe kind reports
// through the same ProbeResult, so verdicts, the log and the status share it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace luvsup::health {

struct ProbeResult {
  bool ok = false;        // the I/O succeeded: connected, got an HTTP response, exec exited 0
  int status = 0;         // the HTTP status code, or the exec probe's exit code; 0 otherwise
  double latency = 0;     // seconds from the start of the probe to its result
  std::string error;      // why the probe failed; empty when ok
  std::string output;     // the HTTP body or the exec probe's output, capped
  bool timed_out = false; // the probe ran past its timeout (and was cancelled or killed)
  // The HTTP response's headers, names lowercased, in the order they came;
  // filled only when the request asked for them (HttpRequestSpec::keep_headers).
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called once with the result, always from a loop callback (never inline).
using ProbeDone = std::function<void(ProbeResult)>;

// A probe in flight. Destroying it cancels the probe (an exec probe's whole
// process group is killed); `done` is never called after that.
class PendingProbe {
public:
  virtual ~PendingProbe() = default;
};

// A probe written in Lua (a function given as a health check). It runs as a
// coroutine, like a hook, so it may wait (exec, http.get, sleep); a run
// past `timeout` is cancelled and fails.
class ScriptProbe {
public:
  virtual ~ScriptProbe() = default;
  // Starts one run; `done` runs once from a loop callback unless the
  // returned handle is destroyed first.
  virtual std::unique_ptr<PendingProbe> start(double timeout, ProbeDone done) = 0;
};

// One HTTP(S) request: what an http probe (and later a runbook's http.get or
// http.post) asks for. The verdict on status and body is Lua's.
struct HttpRequestSpec {
  std::string url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout = 1.0;         // seconds, for the whole request
  bool tls_verify = true;       // verify the peer's certificate and host name
  size_t max_body = 64 * 1024;  // bytes of the response body kept; the rest is discarded
  bool keep_headers = false;    // fill ProbeResult::headers (runbooks' http calls; probes do not)
};

}  // namespace luvsup::health
