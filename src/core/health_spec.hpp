// The C++ view of a service's health definition (the `health` key), and the
// seam to the Lua code that decides. What unhealthy does is the service's
// on_unhealthy hook (core/service_hooks.hpp).
//
// The DSL (lua/luvsup/health.lua) validates and normalises a probe into a
// tree: I/O leaves (http, tcp, exec) that C++ runs, Lua function leaves that
// the Lua judge calls itself, and all/any nodes that combine them. C++ runs
// every I/O leaf of a round and hands the raw results, by leaf number, to a
// HealthPolicy, which applies verdicts, thresholds, the start period and the
// fallback and returns the new health state. C++ keeps that state (it
// belongs to the service, not to the definition) and does the scheduling.
#pragma once

#include "core/health_status.hpp"
#include "core/restart_policy.hpp"
#include "core/service_hooks.hpp"
#include "health/probe.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::core {

struct ProbeSpec {
  enum class Kind { http, tcp, exec, lua, all, any };
  Kind kind = Kind::tcp;
  int leaf = 0;                 // 1-based number of an I/O leaf in its tree's results; 0 otherwise
  double timeout = 1.0;         // seconds
  health::HttpRequestSpec http; // http
  std::string host = "127.0.0.1";  // tcp: an IP address
  int port = 0;                    // tcp
  std::vector<std::string> argv;   // exec
  std::vector<ProbeSpec> children; // all, any
};

std::string_view to_string(ProbeSpec::Kind kind);

// "tcp 127.0.0.1:5432", "http http://...", "exec /bin/check", "all of 2", ...
std::string describe(const ProbeSpec& probe);

// Every I/O leaf of `probe` (the ones C++ runs), in leaf order.
std::vector<const ProbeSpec*> io_leaves(const ProbeSpec& probe);

// What the health policy decides on one round.
struct HealthJudgement {
  HealthCounters counters;    // the new counters and state
  bool passed = false;        // the round passed (the fallback may have excused the primary)
  bool fire = false;          // fire on_unhealthy now
  double next = 10.0;         // seconds until the next probe
  std::string error;          // why it failed
  std::string warning;        // e.g. the primary probe looks broken but the fallback passes
  std::string summary;        // "http 200", "tcp", "exec exit 0"
  health::ProbeResult result; // the primary's result as the verdict saw it (ok = passed)
};

// Decides on probe rounds (implemented by lua::LuaHealthPolicy). Never throws;
// a failing Lua judge yields a failed round with the error.
class HealthPolicy {
public:
  virtual ~HealthPolicy() = default;
  // `primary` and `fallback` hold the raw results of the I/O leaves by leaf
  // number (index 0 is leaf 1); fallback is null when there is none.
  virtual HealthJudgement judge(const HealthCounters& counters,
                                const std::vector<health::ProbeResult>& primary,
                                const std::vector<health::ProbeResult>* fallback, double now) = 0;
};

struct HealthSpec {
  ProbeSpec probe;
  std::optional<ProbeSpec> fallback;
  double interval = 10.0;
  double start_interval = 1.0;
  double start_period = 0.0;
  double fallback_grace = 60.0;
  int retries = 3;
  int success_threshold = 1;
  std::shared_ptr<HealthPolicy> policy; // never null once loaded
};

} // namespace luvsup::core
