// Knows when the stack has come up: every service that was wanted up when
// the watch began has left `starting` (it runs, completed, or failed) or
// waits on a dependency that failed or was stopped by the user. Used
// by `run --detach` to tell the waiting parent; an event stream subscriber
// from begin() until it has reported, and not before or after.
#pragma once

#include "core/supervisor.hpp"
#include "events/event_bus.hpp"

#include <functional>
#include <string>
#include <vector>

namespace luvsup::app {

class StartupWatch final : public events::Subscriber {
public:
  // `done(summary)` runs once, e.g. with "2 services running, 1 failed (web)".
  StartupWatch(events::EventBus& bus, const core::Supervisor& supervisor,
               std::function<void(const std::string& summary)> done);
  ~StartupWatch() override;
  StartupWatch(const StartupWatch&) = delete;
  StartupWatch& operator=(const StartupWatch&) = delete;

  // Takes the services wanted up now (call after start_all) and checks.
  void begin();

  void on_state(const events::StateChange&) override { check(); }
  size_t backlog() const override { return 0; }
  void on_dropped(size_t) override {}

private:
  void check();
  // Whether `service` waits on a dependency that will not start by itself.
  bool blocked(const core::Service& service, int depth) const;

  events::EventBus& m_bus;
  const core::Supervisor& m_supervisor;
  std::function<void(const std::string&)> m_done;
  std::vector<const core::Service*> m_watched;
  bool m_begun = false;
  bool m_subscribed = false;
};

} // namespace luvsup::app
