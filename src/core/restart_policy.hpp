// The seam between the service state machine and restart decisions.
//
// Decisions live in Lua (lua/luvsup/backoff.lua); the Lua bridge implements
// RestartPolicy by calling the service's policy function. DefaultBackoff is
// the C++ fallback used when a policy function fails, so a broken policy never
// leaves a service without supervision.
#pragma once

#include "core/exit_record.hpp"

#include <vector>
#include <optional>
#include <string>
#include <string_view>

namespace luvsup::core {

// What a policy may look at: the service and its recent exits (oldest first,
// the exit being decided on last).
struct ServiceView {
  std::string_view name;
  bool oneshot = false;
  int restarts = 0;  // restarts since luvsup started managing the service
  const std::vector<ExitRecord>& history;
};

struct RestartDecision {
  std::optional<double> delay;  // seconds until the restart; nullopt = do not restart
  bool crash_looping = false;   // shown as the crash-looping state while it keeps retrying
  std::string reason;           // why it gives up, for the log and status
  bool policy_failed = false;   // the policy function failed and the C++ default decided
};

class RestartPolicy {
public:
  virtual ~RestartPolicy() = default;
  virtual RestartDecision decide(const ServiceView& service, const ExitRecord& exit) = 0;
};

// 1 s doubling with 10 % jitter up to 60 s, reset after 60 s of stable running,
// never gives up; crash-looping after 3 quick exits in a row.
class DefaultBackoff final : public RestartPolicy {
public:
  RestartDecision decide(const ServiceView& service, const ExitRecord& exit) override;
};

// How many exits in a row, ending with the newest, came less than `reset_after`
// seconds after their start.
int quick_exit_streak(const std::vector<ExitRecord>& history, double reset_after);

}  // namespace luvsup::core
