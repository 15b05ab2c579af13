#include "readiness/readiness_state.hpp"

#include <fmt/format.h>

namespace luvsup::readiness {

namespace {

// STATUS text goes into luvsup's log and the status view: no terminal escapes
// or line breaks from a service.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

} // namespace

std::string watchdog_gap_text(double seconds) {
  return fmt::format("no WATCHDOG=1 for {}s", seconds);
}

ReadinessState::ReadinessState(double watchdog, std::unique_ptr<core::Timer> timer, Emit emit)
    : m_watchdog(timer ? watchdog : 0), m_timer(std::move(timer)), m_emit(std::move(emit)) {}

void ReadinessState::on_notify(const NotifyMessage& message) {
  if (message.status && printable(*message.status) != m_status) {
    m_status = printable(*message.status);
    m_emit({SignalKind::status, "notify", m_status});
  }
  if (message.ready) {
    on_ready("notify");
  }
  if (message.watchdog) {
    kick_watchdog();
  }
  if (message.watchdog_trigger && !m_stopping) {
    stop_watchdog();
    m_emit({SignalKind::watchdog_missed, "notify",
            "the service reported a failure (WATCHDOG=trigger)"});
  }
  if (message.stopping && !m_stopping) {
    m_stopping = true;
    stop_watchdog();
    m_emit({SignalKind::stopping, "notify", {}});
  }
}

void ReadinessState::on_ready(std::string_view source, std::string_view text) {
  if (m_ready) {
    return;
  }
  m_ready = true;
  if (!m_watchdog_armed) {
    kick_watchdog();
  }
  m_emit({SignalKind::ready, std::string(source), std::string(text)});
}

void ReadinessState::kick_watchdog() {
  if (m_watchdog <= 0 || m_stopping) {
    return;
  }
  m_watchdog_armed = true;
  m_timer->start(m_watchdog, [this] { watchdog_fired(); });
}

void ReadinessState::service_stopping() {
  m_stopping = true;
  stop_watchdog();
}

void ReadinessState::stop_watchdog() {
  m_watchdog_armed = false;
  if (m_timer) {
    m_timer->stop();
  }
}

void ReadinessState::watchdog_fired() {
  m_watchdog_armed = false;
  m_emit({SignalKind::watchdog_missed, "notify", watchdog_gap_text(m_watchdog)});
}

} // namespace luvsup::readiness
