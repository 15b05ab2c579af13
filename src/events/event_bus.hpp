// The one event stream inside luvsup: typed state changes and every line of
// service output, fanned out to subscribers (the control socket's `logs -f`
// today; hooks, the dashboard and metrics later).
//
// Delivery is synchronous and never blocks: a subscriber copies what it wants
// into its own outgoing buffer (a socket's write queue). Each subscriber's
// buffer is bounded: after a delivery leaves more than `max_backlog` bytes
// unconsumed, the bus drops the subscriber and tells it so, once. A reader
// that stops reading therefore costs at most max_backlog bytes, never an
// unbounded queue, and never slows the supervisor or the service logs.
#pragma once

#include "core/service.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace luvsup::events {

struct StateChange {
  std::string_view service;
  core::ProcState from;
  core::ProcState to;
  double wall_time = 0; // seconds since the epoch
};

// One service-log record as written to the log file (see log/record_format.hpp).
struct LogLine {
  std::string_view service;
  std::string_view timestamp; // "YYYY-MM-DDTHH:MM:SS.mmm", local time
  std::string_view stream;    // "", "out" or "err", as in the file
  char mark = '|';
  std::string_view payload;
};

class Subscriber {
public:
  virtual ~Subscriber() = default;
  virtual void on_state(const StateChange&) {}
  virtual void on_log(const LogLine&) {}
  // Bytes delivered to this subscriber and not yet consumed.
  virtual size_t backlog() const = 0;
  // The bus dropped this subscriber (already unsubscribed) because its
  // backlog passed the bound. May destroy the subscriber.
  virtual void on_dropped(size_t backlog) = 0;
};

class EventBus {
public:
  static constexpr size_t k_default_max_backlog = 1u << 20;

  explicit EventBus(size_t max_backlog = k_default_max_backlog) : m_max_backlog(max_backlog) {}
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // A subscriber must unsubscribe before it is destroyed (safe at any time,
  // even from inside a delivery).
  void subscribe(Subscriber* subscriber);
  void unsubscribe(Subscriber* subscriber);
  void publish(const StateChange& event);
  void publish(const LogLine& event);
  size_t subscriber_count() const;
  uint64_t dropped_count() const { return m_dropped; }

private:
  template <typename Deliver> void fan_out(Deliver deliver);

  size_t m_max_backlog;
  std::vector<Subscriber*> m_subscribers; // null: unsubscribed during a fan-out
  int m_depth = 0;                        // nesting of fan-outs in progress
  uint64_t m_dropped = 0;
};

} // namespace luvsup::events
