#include "events/event_bus.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

using namespace luvsup;

namespace {

// Counts what it gets; its backlog grows by each line until it "reads".
struct Recorder final : events::Subscriber {
  std::vector<std::string> lines;
  std::vector<std::string> states;
  size_t pending = 0;
  size_t dropped_at = 0;
  bool dropped = false;
  std::function<void()> on_line;

  void on_log(const events::LogLine& line) override {
    lines.emplace_back(line.payload);
    pending += line.payload.size();
    if (on_line) {
      on_line();
    }
  }
  void on_state(const events::StateChange& change) override {
    states.push_back(std::string(change.service) + ":" + std::string(core::to_string(change.to)));
  }
  size_t backlog() const override { return pending; }
  void on_dropped(size_t backlog) override {
    dropped = true;
    dropped_at = backlog;
  }
};

events::LogLine line(std::string_view payload) {
  return events::LogLine{"web", "2026-01-01T00:00:00.000", "", '|', payload};
}

} // namespace

TEST_CASE("every subscriber gets every state change and log line") {
  events::EventBus bus;
  Recorder a, b;
  bus.subscribe(&a);
  bus.subscribe(&b);
  bus.publish(events::StateChange{"web", core::ProcState::starting, core::ProcState::running, 0});
  bus.publish(line("hello"));
  CHECK(a.states == std::vector<std::string>{"web:running"});
  CHECK(b.lines == std::vector<std::string>{"hello"});
  bus.unsubscribe(&a);
  bus.publish(line("again"));
  CHECK(a.lines.size() == 1);
  CHECK(b.lines.size() == 2);
}

TEST_CASE("a subscriber that stops reading is dropped once its backlog passes the bound") {
  spdlog::set_level(spdlog::level::off);
  events::EventBus bus(10);
  Recorder slow, fast;
  bus.subscribe(&slow);
  bus.subscribe(&fast);
  fast.on_line = [&] { fast.pending = 0; };
  bus.publish(line("12345"));
  bus.publish(line("12345"));
  CHECK_FALSE(slow.dropped);
  bus.publish(line("x"));
  CHECK(slow.dropped);
  CHECK(slow.dropped_at == 11);
  CHECK(bus.subscriber_count() == 1);
  CHECK(bus.dropped_count() == 1);
  bus.publish(line("later"));
  CHECK(slow.lines.size() == 3); // nothing after the drop
  CHECK(fast.lines.size() == 4);
}

TEST_CASE("a subscriber that keeps up is never dropped") {
  events::EventBus bus(16);
  Recorder reader;
  bus.subscribe(&reader);
  reader.on_line = [&] { reader.pending = 0; };
  for (int i = 0; i < 1000; ++i) {
    bus.publish(line("0123456789"));
  }
  CHECK_FALSE(reader.dropped);
  CHECK(reader.lines.size() == 1000);
}

TEST_CASE("unsubscribing during a delivery is safe for the others") {
  events::EventBus bus;
  Recorder a, b, c;
  bus.subscribe(&a);
  bus.subscribe(&b);
  bus.subscribe(&c);
  a.on_line = [&] {
    bus.unsubscribe(&b);
    bus.unsubscribe(&a);
  };
  bus.publish(line("one"));
  CHECK(a.lines.size() == 1);
  CHECK(b.lines.empty());
  CHECK(c.lines.size() == 1);
  CHECK(bus.subscriber_count() == 1);
}
