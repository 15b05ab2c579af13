// What one run of a service has said about its readiness, turned into Signals.
//
// The channels (notify socket, readiness pipe, log line) feed facts in; this
// class keeps the little state that decides which of them are news: ready is
// reported once per run, STATUS only when its text changes (control
// characters shown as '?'), STOPPING once.
// It also runs the watchdog: once the service is ready (by any channel) or a
// first WATCHDOG=1 arrived, a gap of more than `watchdog` seconds without
// WATCHDOG=1 is reported once as watchdog_missed (the next WATCHDOG=1 re-arms
// it). The watchdog timer comes
// from core::Platform, so unit tests drive it on a fake clock.
#pragma once

#include "core/platform.hpp"
#include "readiness/notify_message.hpp"
#include "readiness/signal.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace luvsup::readiness {

class ReadinessState {
public:
  using Emit = std::function<void(const Signal&)>;

  // `watchdog` in seconds, 0 for none; `timer` may be null when there is none.
  ReadinessState(double watchdog, std::unique_ptr<core::Timer> timer, Emit emit);
  ReadinessState(const ReadinessState&) = delete;
  ReadinessState& operator=(const ReadinessState&) = delete;

  // A datagram from the notify socket.
  void on_notify(const NotifyMessage& message);
  // Readiness from `source` ("fd", "log"); `text` is the matching line for "log".
  void on_ready(std::string_view source, std::string_view text = {});
  // luvsup is stopping the service: from now on a silent watchdog is no
  // longer news, and no WATCHDOG=1 re-arms it.
  void service_stopping();

  [[nodiscard]] bool ready() const { return m_ready; }
  [[nodiscard]] bool watchdog_armed() const { return m_watchdog_armed; }
  [[nodiscard]] const std::string& status() const { return m_status; }

private:
  void kick_watchdog();
  void stop_watchdog();
  void watchdog_fired();

  double m_watchdog;
  std::unique_ptr<core::Timer> m_timer;
  Emit m_emit;
  bool m_ready = false;
  bool m_stopping = false;
  bool m_watchdog_armed = false;
  std::string m_status;
};

// "no WATCHDOG=1 for 2s": the text of a watchdog_missed signal.
std::string watchdog_gap_text(double seconds);

} // namespace luvsup::readiness
