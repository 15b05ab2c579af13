#include "core/restart_policy.hpp"

#include <algorithm>
#include <random>

namespace luvsup::core {

int quick_exit_streak(const std::vector<ExitRecord>& history, double reset_after) {
  int streak = 0;
  for (auto it = history.rbegin(); it != history.rend() && it->uptime < reset_after; ++it) {
    ++streak;
  }
  return streak;
}

RestartDecision DefaultBackoff::decide(const ServiceView& service, const ExitRecord& exit) {
  constexpr double initial = 1.0, factor = 2.0, max_delay = 60.0, reset_after = 60.0;
  RestartDecision decision;
  if (service.oneshot && exit.success) {
    return decision;  // a completed task is not restarted
  }
  const int streak = std::max(1, quick_exit_streak(service.history, reset_after));
  double delay = initial;
  for (int i = 1; i < streak && delay < max_delay; ++i) {
    delay *= factor;
  }
  delay = std::min(delay, max_delay);
  static thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(-0.1, 0.1);
  decision.delay = std::max(0.0, delay * (1.0 + jitter(rng)));
  decision.crash_looping = streak >= 3;
  return decision;
}

}  // namespace luvsup::core
