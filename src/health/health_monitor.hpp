// The health monitor of one service: runs its probe rounds on a schedule and
// keeps its health state.
//
// A round starts every I/O leaf of the primary probe and of the fallback at
// once (one round in flight at a time), waits for all of them, and hands the
// raw results to the service's HealthPolicy (Lua), which returns the new state
// and when to probe next. Timers and probes go through core::Platform, so unit
// tests run the monitor on the fake clock. Stopping cancels the round in
// flight (an exec probe's process group is killed).
#pragma once

#include "core/health_status.hpp"
#include "core/platform.hpp"
#include "core/service_spec.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace luvsup::health {

// The delay until a round asked to run `delay` seconds after `now`, moved to
// the nearest point of a grid of a fiftieth of the delay (at most 50 ms) on
// the monotonic clock. Rounds of many services that are due within a few
// milliseconds of each other then run in one loop wakeup: without it the
// latency of each round (the next one is due `interval` after the result)
// spreads hundreds of services probed every second over as many wakeups.
[[nodiscard]] double coalesced_delay(double now, double delay);

class Monitor {
public:
  struct Callbacks {
    std::function<void()> passed; // the state became healthy: a readiness signal
    std::function<void()> fire;   // unhealthy past its retries: fire on_unhealthy
  };

  // `spec` must have a health check; it and `status` (the service's health
  // state, which the service keeps across monitors) outlive the monitor.
  Monitor(core::Platform& platform, const core::ServiceSpec& spec, core::HealthStatus& status,
          Callbacks callbacks);
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Starts probing a process spawned now: the state is starting again, the
  // fallback grace starts afresh, and the first round runs after
  // start_interval. Whether the primary probe ever passed under this
  // definition is kept.
  void start();
  // Follows a new spec whose health definition is the same as the current
  // one's (a reload that changed something else): the round in flight goes
  // on and is judged by the new spec's policy.
  void rebind(const core::ServiceSpec& spec);
  // Probes a process that kept running while its definition was swapped (a
  // reload): the state and counters are kept and the next round follows the
  // schedule of the phase it is in.
  void resume();
  // Stops probing and cancels the round in flight; the state is kept.
  void stop();
  [[nodiscard]] bool active() const { return m_active; }

  [[nodiscard]] const core::HealthStatus& status() const { return m_status; }

private:
  // Starts the next round `delay` seconds from now, coalesced (see coalesced_delay).
  void arm(double delay);
  void begin_round();
  void leaf_done(uint64_t round, bool fallback, size_t index, ProbeResult result);
  void finish_round();

  core::Platform& m_platform;
  const core::ServiceSpec* m_spec;  // never null; see rebind()
  Callbacks m_callbacks;
  std::unique_ptr<core::Timer> m_timer;
  bool m_active = false;
  uint64_t m_round = 0; // numbers rounds, so a late result of a cancelled one is ignored
  size_t m_outstanding = 0;
  std::vector<std::unique_ptr<PendingProbe>> m_pending;
  std::vector<ProbeResult> m_primary;
  std::vector<ProbeResult> m_fallback;
  core::HealthStatus& m_status;
  std::string m_warning; // the last warning logged, so a lasting one is logged once
};

} // namespace luvsup::health
