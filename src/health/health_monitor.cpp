#include "health/health_monitor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace luvsup::health {

namespace {

std::string latency_text(double seconds) {
  return fmt::format("{}ms", static_cast<long long>(std::llround(seconds * 1000)));
}

// The grid a round's start is rounded to: a fiftieth of the delay, at most
// 50 ms, so a round runs at most 1 % of its delay early or late.
constexpr double k_grid_fraction = 1.0 / 50;
constexpr double k_max_grid = 0.05;


} // namespace

Monitor::Monitor(core::Platform& platform, const core::ServiceSpec& spec,
                 core::HealthStatus& status, Callbacks callbacks)
    : m_platform(platform), m_spec(&spec), m_callbacks(std::move(callbacks)),
      m_timer(platform.make_timer()), m_status(status) {}

Monitor::~Monitor() = default;

void Monitor::start() {
  stop();
  m_active = true;
  core::HealthCounters& c = m_status.counters;
  c.state = core::HealthState::starting;
  c.failures = 0;
  c.successes = 0;
  c.fired_at = 0;
  c.in_start_period = true;
  c.excused_since = -1; // a new process gets the whole fallback grace again
  c.started = m_platform.now();
  m_status.last_change = c.started;
  m_status.reason.clear();
  const core::HealthSpec& health = *m_spec->health;
  spdlog::debug("{}: health check {}{}, every {}s", m_spec->name, core::describe(health.probe),
                health.fallback ? " with fallback " + core::describe(*health.fallback) : "",
                health.interval);
  arm(std::min(health.start_interval, health.interval));
}

void Monitor::rebind(const core::ServiceSpec& spec) { m_spec = &spec; }

void Monitor::resume() {
  stop();
  m_active = true;
  const core::HealthSpec& health = *m_spec->health;
  arm(m_status.counters.in_start_period ? std::min(health.start_interval, health.interval)
                                        : health.interval);
}

void Monitor::stop() {
  m_active = false;
  m_timer->stop();
  ++m_round;
  m_outstanding = 0;
  m_pending.clear(); // cancels what is in flight
}

double coalesced_delay(double now, double delay) {
  const double grid = std::min(delay * k_grid_fraction, k_max_grid);
  if (!(grid > 0)) {
    return std::max(delay, 0.0);
  }
  const double due = std::round((now + delay) / grid) * grid;
  return std::max(due - now, 0.0);
}

void Monitor::arm(double delay) {
  m_timer->start(coalesced_delay(m_platform.now(), delay), [this] { begin_round(); });
}

void Monitor::begin_round() {
  if (!m_active) {
    return;
  }
  const core::HealthSpec& health = *m_spec->health;
  const uint64_t round = ++m_round;
  m_pending.clear();
  const auto primary = core::io_leaves(health.probe);
  const auto fallback =
      health.fallback ? core::io_leaves(*health.fallback) : std::vector<const core::ProbeSpec*>{};
  m_primary.assign(primary.size(), ProbeResult{});
  m_fallback.assign(fallback.size(), ProbeResult{});
  m_outstanding = primary.size() + fallback.size();
  if (m_outstanding == 0) {
    finish_round(); // only Lua function probes: the judge runs them
    return;
  }
  auto launch = [&](const std::vector<const core::ProbeSpec*>& leaves, bool is_fallback) {
    for (size_t i = 0; i < leaves.size(); ++i) {
      m_pending.push_back(m_platform.start_probe(
          *m_spec, *leaves[i], [this, round, is_fallback, i](ProbeResult result) {
            leaf_done(round, is_fallback, i, std::move(result));
          }));
    }
  };
  launch(primary, false);
  launch(fallback, true);
}

void Monitor::leaf_done(uint64_t round, bool fallback, size_t index, ProbeResult result) {
  if (round != m_round || !m_active || m_outstanding == 0) {
    return;
  }
  (fallback ? m_fallback : m_primary).at(index) = std::move(result);
  if (--m_outstanding == 0) {
    finish_round();
  }
}

void Monitor::finish_round() {
  const core::HealthSpec& health = *m_spec->health;
  const double now = m_platform.now();
  const core::HealthState before = m_status.counters.state;
  const int failures_before = m_status.counters.failures;
  core::HealthJudgement j = health.policy->judge(m_status.counters, m_primary,
                                                 health.fallback ? &m_fallback : nullptr, now);
  m_status.counters = j.counters;
  m_status.last = j.result;
  m_status.last_latency = j.result.latency;
  if (!j.warning.empty() && j.warning != m_warning) {
    spdlog::warn("{}: {}", m_spec->name, j.warning);
  }
  m_warning = j.warning;
  const core::HealthState after = j.counters.state;
  if (after != before) {
    m_status.last_change = now;
    spdlog::debug("{}: health {} -> {}", m_spec->name, core::to_string(before),
                  core::to_string(after));
  }
  if (j.passed) {
    m_status.reason.clear();
    if (after == core::HealthState::healthy && before != core::HealthState::healthy) {
      spdlog::info("{}: healthy ({} in {})", m_spec->name, j.summary,
                   latency_text(j.result.latency));
    }
  } else {
    m_status.reason = j.error;
    if (after == core::HealthState::unhealthy && (before != after || j.fire)) {
      spdlog::warn("{}: unhealthy after {} failure{}: {}", m_spec->name, j.counters.failures,
                   j.counters.failures == 1 ? "" : "s", j.error);
    } else if (j.counters.failures > failures_before) {
      spdlog::info("{}: health probe failed ({}/{}): {}", m_spec->name, j.counters.failures,
                   health.retries, j.error);
    } else if (j.counters.in_start_period && now - j.counters.started < health.start_period) {
      spdlog::info("{}: health probe failed (not counted in the start period): {}", m_spec->name,
                   j.error);
    } else {
      spdlog::info("{}: health probe failed (not counted): {}", m_spec->name, j.error);
    }
  }
  // Arm before the callbacks: they may stop the monitor (a restart).
  arm(j.next);
  if (after == core::HealthState::healthy && before != core::HealthState::healthy &&
      m_callbacks.passed) {
    m_callbacks.passed();
  }
  if (j.fire && m_active && m_callbacks.fire) {
    m_callbacks.fire();
  }
}

} // namespace luvsup::health
