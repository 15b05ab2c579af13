#include "app/background_sink.hpp"

#include <exception>
#include <utility>

namespace luvsup::app {

BackgroundSink::BackgroundSink(std::shared_ptr<spdlog::sinks::sink> target, size_t capacity,
                               std::chrono::milliseconds burst_wait)
    : m_target(std::move(target)), m_capacity(capacity), m_burst_wait(burst_wait),
      m_writer([this] { write_queued(); }) {}

BackgroundSink::~BackgroundSink() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_one();
  m_writer.join();
}

bool BackgroundSink::writer_due() const {
  if (m_stopping) {
    return true;
  }
  return !m_queue.empty() && (m_holds == 0 || m_flushes_waiting > 0 || m_queue.size() >= m_capacity / 4);
}

void BackgroundSink::log(const spdlog::details::log_msg& msg) {
  bool wake;
  {
    std::lock_guard lock(m_mutex);
    if (m_queue.size() >= m_capacity) {
      m_queue.pop_front();
      ++m_dropped;
    }
    // The first record wakes the writer even in a burst: it starts the
    // burst's wait.
    wake = m_queue.empty();
    m_queue.emplace_back(msg);
    wake = wake || writer_due();
  }
  if (wake) {
    m_wake.notify_one();
  }
}

void BackgroundSink::flush() {
  std::unique_lock lock(m_mutex);
  ++m_flushes_waiting;
  m_wake.notify_one();
  m_idle.wait(lock, [this] { return m_queue.empty() && !m_writing; });
  --m_flushes_waiting;
}

BackgroundSink::Hold::Hold(std::shared_ptr<BackgroundSink> sink) : m_sink(std::move(sink)) {
  std::lock_guard lock(m_sink->m_mutex);
  ++m_sink->m_holds;
}

BackgroundSink::Hold::~Hold() {
  if (!m_sink) {
    return;
  }
  {
    std::lock_guard lock(m_sink->m_mutex);
    --m_sink->m_holds;
  }
  m_sink->m_wake.notify_one();
}

void BackgroundSink::set_pattern(const std::string& pattern) { m_target->set_pattern(pattern); }

void BackgroundSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  m_target->set_formatter(std::move(formatter));
}

size_t BackgroundSink::dropped() const {
  std::lock_guard lock(m_mutex);
  return m_dropped;
}

void BackgroundSink::write_queued() {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_wake.wait(lock, [this] { return !m_queue.empty() || m_stopping; });
    if (!writer_due()) {
      m_wake.wait_for(lock, m_burst_wait, [this] { return writer_due(); });
    }
    if (m_queue.empty()) {
      return;  // stopping, and everything is written
    }
    std::deque<spdlog::details::log_msg_buffer> batch;
    batch.swap(m_queue);
    m_writing = true;
    lock.unlock();
    for (const auto& msg : batch) {
      try {
        m_target->log(msg);
      } catch (const std::exception&) {
        // A record that cannot be formatted or written is lost alone; the
        // writer must outlive it, and its own log is the one that failed.
      }
    }
    try {
      m_target->flush();
    } catch (const std::exception&) {
      // As above: a lost stderr (EIO, EPIPE) is ignored.
    }
    lock.lock();
    m_writing = false;
    m_idle.notify_all();
  }
}

}  // namespace luvsup::app
