#include "app/startup_watch.hpp"

#include <fmt/format.h>

namespace luvsup::app {

StartupWatch::StartupWatch(events::EventBus& bus, const core::Supervisor& supervisor,
                           std::function<void(const std::string&)> done)
    : m_bus(bus), m_supervisor(supervisor), m_done(std::move(done)) {}

StartupWatch::~StartupWatch() {
  if (m_subscribed) {
    m_bus.unsubscribe(this);
  }
}

void StartupWatch::begin() {
  for (const auto& service : m_supervisor.services()) {
    if (service->wanted_up()) {
      m_watched.push_back(service.get());
    }
  }
  m_begun = true;
  m_bus.subscribe(this);
  m_subscribed = true;
  check();
}

bool StartupWatch::blocked(const core::Service& service, int depth) const {
  // A dependency that gave up or was stopped by the user will not come up by
  // itself: its dependents wait for an operator, not for time.
  if (service.state() == core::ProcState::fatal ||
      (service.state() == core::ProcState::stopped && m_supervisor.held_down(service))) {
    return true;
  }
  if (service.state() != core::ProcState::starting || depth > 64) {
    return false;
  }
  for (const auto& dep : service.spec().depends_on) {
    const core::Service* other = m_supervisor.find(dep.name);
    if (other != nullptr && !other->started() && blocked(*other, depth + 1)) {
      return true;
    }
  }
  return false;
}

void StartupWatch::check() {
  if (!m_begun || !m_done) {
    return;
  }
  int running = 0;
  int completed = 0;
  std::string failed;
  int failed_count = 0;
  std::string waiting;
  int waiting_count = 0;
  for (const core::Service* service : m_watched) {
    switch (service->state()) {
    case core::ProcState::starting:
      if (!blocked(*service, 0)) {
        return; // not there yet
      }
      ++waiting_count;
      waiting += (waiting.empty() ? "" : ", ") + service->name();
      break;
    case core::ProcState::preparing:
      return; // its before_start hook decides
    case core::ProcState::running:
      ++running;
      break;
    case core::ProcState::completed:
      ++completed;
      break;
    case core::ProcState::stopping:
    case core::ProcState::finishing:
      if (service->wanted_up()) {
        return; // exited and clearing leftovers: the restart decision is pending
      }
      break;
    case core::ProcState::stopped:
      break; // stopped on request meanwhile
    default:
      ++failed_count;
      failed += (failed.empty() ? "" : ", ") + service->name();
    }
  }
  std::string summary = fmt::format("{} service{} running", running, running == 1 ? "" : "s");
  if (completed > 0) {
    summary += fmt::format(", {} completed", completed);
  }
  if (failed_count > 0) {
    summary += fmt::format(", {} failed ({})", failed_count, failed);
  }
  if (waiting_count > 0) {
    summary += fmt::format(", {} waiting for a stopped or failed dependency ({})", waiting_count,
                           waiting);
  }
  auto done = std::move(m_done);
  m_done = nullptr;
  // Every line of service output passes the event stream: leave it once done.
  m_bus.unsubscribe(this);
  m_subscribed = false;
  done(summary);
}

} // namespace luvsup::app
