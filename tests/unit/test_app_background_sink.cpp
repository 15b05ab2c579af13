#include "app/background_sink.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using luvsup::app::BackgroundSink;

namespace {

// Keeps each record's text; while held, the first record it gets blocks the
// writing thread until release().
class RecordingSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return m_lines;
  }
  void hold() { m_held = true; }
  void wait_until_blocked() {
    std::unique_lock lock(m_gate_mutex);
    m_gate.wait(lock, [this] { return m_blocked; });
  }
  void release() {
    {
      std::lock_guard lock(m_gate_mutex);
      m_held = false;
    }
    m_gate.notify_all();
  }
  int flushes() {
    std::lock_guard lock(mutex_);
    return m_flushes;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    m_lines.emplace_back(msg.payload.data(), msg.payload.size());
    std::unique_lock lock(m_gate_mutex);
    if (m_held) {
      m_blocked = true;
      m_gate.notify_all();
      m_gate.wait(lock, [this] { return !m_held; });
    }
  }
  void flush_() override { ++m_flushes; }

private:
  std::vector<std::string> m_lines;
  int m_flushes = 0;
  std::mutex m_gate_mutex;
  std::condition_variable m_gate;
  bool m_held = false;
  bool m_blocked = false;
};

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) {
    out.push_back("line " + std::to_string(i));
  }
  return out;
}

// The target's lines once it has `n` of them, or after 10 s what it has.
std::vector<std::string> wait_for_lines(RecordingSink& target, size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (target.lines().size() < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return target.lines();
}

// A sink of `capacity` records in front of a RecordingSink, held from the start.
struct HeldSink {
  HeldSink(size_t capacity, std::chrono::milliseconds burst_wait)
      : sink(std::make_shared<BackgroundSink>(target, capacity, burst_wait)), logger("test", sink),
        hold(sink) {}
  std::shared_ptr<RecordingSink> target = std::make_shared<RecordingSink>();
  std::shared_ptr<BackgroundSink> sink;
  spdlog::logger logger;
  BackgroundSink::Hold hold;
};

}  // namespace

TEST_CASE("records reach the target in order and flush waits until they are written") {
  auto target = std::make_shared<RecordingSink>();
  auto sink = std::make_shared<BackgroundSink>(target, 1024);
  spdlog::logger logger("test", sink);
  for (int i = 1; i <= 200; ++i) {
    logger.info("line {}", i);
  }
  sink->flush();
  CHECK(target->lines() == numbered(1, 200));
  CHECK(target->flushes() >= 1);
  CHECK(sink->dropped() == 0);
}

TEST_CASE("destroying the sink writes every record still queued") {
  auto target = std::make_shared<RecordingSink>();
  {
    auto sink = std::make_shared<BackgroundSink>(target, 1024);
    spdlog::logger logger("test", sink);
    for (int i = 1; i <= 50; ++i) {
      logger.warn("line {}", i);
    }
  }
  CHECK(target->lines() == numbered(1, 50));
}

TEST_CASE("a stuck target drops the oldest queued records and never makes the caller wait") {
  auto target = std::make_shared<RecordingSink>();
  target->hold();
  auto sink = std::make_shared<BackgroundSink>(target, 4);
  spdlog::logger logger("test", sink);
  logger.info("line 1");
  target->wait_until_blocked();  // the writer is inside the target with line 1
  for (int i = 2; i <= 10; ++i) {
    logger.info("line {}", i);  // returns at once although nothing is written
  }
  CHECK(sink->dropped() == 5);
  target->release();
  sink->flush();
  std::vector<std::string> expected{"line 1"};
  for (const auto& line : numbered(7, 10)) {
    expected.push_back(line);
  }
  CHECK(target->lines() == expected);
}

TEST_CASE("records logged under a hold are written in one batch when the hold ends") {
  auto target = std::make_shared<RecordingSink>();
  auto sink = std::make_shared<BackgroundSink>(target, 1024, std::chrono::hours(1));
  spdlog::logger logger("test", sink);
  {
    BackgroundSink::Hold hold(sink);
    for (int i = 1; i <= 100; ++i) {
      logger.info("line {}", i);
    }
    CHECK(target->lines().empty());  // the writer is not due while held
  }
  sink->flush();
  CHECK(target->lines() == numbered(1, 100));
  CHECK(target->flushes() == 1);
}

TEST_CASE("a hold gives way to flush and to a queue a quarter full") {
  HeldSink held(8, std::chrono::hours(1));
  held.logger.info("line 1");
  held.sink->flush();  // would wait forever if the hold kept the writer away
  CHECK(held.target->lines() == numbered(1, 1));
  held.logger.info("line 2");
  held.logger.info("line 3");  // 2 of 8 queued: the writer is due without a flush
  CHECK(wait_for_lines(*held.target, 3) == numbered(1, 3));
  CHECK(held.sink->dropped() == 0);
}

TEST_CASE("a long hold lets its records out once the burst wait has passed") {
  HeldSink held(1024, std::chrono::milliseconds(20));
  held.logger.info("line 1");
  CHECK(wait_for_lines(*held.target, 1) == numbered(1, 1));  // written while the hold still lives
}
