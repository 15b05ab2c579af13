// The health axis of a service: its state and counters, kept in C++ so they
// survive a reload that swaps the definitions.
#pragma once

#include "health/probe.hpp"

#include <string>
#include <string_view>

namespace luvsup::core {

// starting: probed, not passed yet since the spawn; healthy: passed
// (success_threshold times in a row); unhealthy: failed `retries` times in a
// row. A service without a health check has no health state (none).
enum class HealthState { none, starting, healthy, unhealthy };
std::string_view to_string(HealthState state);

// What the health policy reads and updates on each round.
struct HealthCounters {
  HealthState state = HealthState::starting;
  int failures = 0;            // consecutive failures that count
  int successes = 0;           // consecutive passes
  int fired_at = 0;            // failures when on_unhealthy last fired
  bool in_start_period = true; // no pass since the spawn
  double started = 0;          // monotonic time of the spawn
  // Under the current definition, whether the primary probe ever passed, and
  // since when a passing fallback has been excusing its failures (< 0: not).
  bool primary_passed = false;
  double excused_since = -1;
};

struct HealthStatus {
  HealthCounters counters;
  health::ProbeResult last; // the last round's result (ok = the round passed)
  double last_latency = 0;
  double last_change = 0; // monotonic time of the last state change
  std::string reason;     // why it is unhealthy
};

} // namespace luvsup::core
