#include "events/event_bus.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace luvsup::events {

void EventBus::subscribe(Subscriber* subscriber) {
  m_subscribers.push_back(subscriber);
}

void EventBus::unsubscribe(Subscriber* subscriber) {
  auto it = std::find(m_subscribers.begin(), m_subscribers.end(), subscriber);
  if (it == m_subscribers.end()) {
    return;
  }
  if (m_depth > 0) {
    *it = nullptr; // compacted once the outermost fan-out ends
  } else {
    m_subscribers.erase(it);
  }
}

size_t EventBus::subscriber_count() const {
  return static_cast<size_t>(std::count_if(m_subscribers.begin(), m_subscribers.end(),
                                           [](auto* s) { return s != nullptr; }));
}

template <typename Deliver> void EventBus::fan_out(Deliver deliver) {
  ++m_depth;
  // By index: a delivery may subscribe others (appended, served next time).
  const size_t count = m_subscribers.size();
  for (size_t i = 0; i < count; ++i) {
    Subscriber* subscriber = m_subscribers[i];
    if (subscriber == nullptr) {
      continue;
    }
    deliver(*subscriber);
    if (m_subscribers[i] == subscriber && subscriber->backlog() > m_max_backlog) {
      const size_t backlog = subscriber->backlog();
      m_subscribers[i] = nullptr;
      ++m_dropped;
      spdlog::warn("event stream: dropped a subscriber that stopped reading ({} bytes behind)",
                   backlog);
      subscriber->on_dropped(backlog);
    }
  }
  if (--m_depth == 0) {
    std::erase(m_subscribers, nullptr);
  }
}

void EventBus::publish(const StateChange& event) {
  fan_out([&](Subscriber& s) { s.on_state(event); });
}

void EventBus::publish(const LogLine& event) {
  fan_out([&](Subscriber& s) { s.on_log(event); });
}

} // namespace luvsup::events
