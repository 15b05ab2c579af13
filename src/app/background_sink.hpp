// A spdlog sink that hands each record to one writer thread, which passes it
// on to another sink (stderr).
//
// spdlog's own asynchronous logger does this too, but its worker waits on
// its queue with a 10 s timeout and so wakes an idle luvsup every 10 s. This
// writer sleeps on a condition variable without a timeout: no record, no
// wakeup. The loop thread only copies the record into a queue under a short
// lock, so a stuck terminal or a full stderr pipe never blocks it; when the
// writer falls `capacity` records behind, the oldest queued record is
// dropped. Destroying the sink writes everything still queued, then joins.
//
// A Hold batches a burst (every service starting at once): while one lives,
// records wait in the queue until the last Hold ends, a quarter of the
// capacity is queued, flush() is called or `burst_wait` has passed since the
// first of them, and the writer then takes them all at once, so its target
// writes them in one go. The wait bounds how late a line can be (and how
// many a crash in a long burst can lose).
#pragma once

#include <spdlog/details/log_msg_buffer.h>
#include <spdlog/sinks/sink.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace luvsup::app {

class BackgroundSink final : public spdlog::sinks::sink {
public:
  BackgroundSink(std::shared_ptr<spdlog::sinks::sink> target, size_t capacity,
                 std::chrono::milliseconds burst_wait = std::chrono::milliseconds(50));
  BackgroundSink(const BackgroundSink&) = delete;
  BackgroundSink& operator=(const BackgroundSink&) = delete;
  ~BackgroundSink() override;

  // Queues a copy of the record; never waits for the writer.
  void log(const spdlog::details::log_msg& msg) override;
  // Waits until every record queued so far has been written and flushed.
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  // How many records were dropped because the writer was too far behind.
  size_t dropped() const;

  // Holds the writer back while it lives (see above); an empty Hold does
  // nothing. Moving it moves the hold.
  class Hold {
  public:
    Hold() = default;
    explicit Hold(std::shared_ptr<BackgroundSink> sink);
    Hold(Hold&&) noexcept = default;
    Hold& operator=(Hold&&) = delete;
    ~Hold();

  private:
    std::shared_ptr<BackgroundSink> m_sink;
  };

private:
  void write_queued();
  // Whether the writer should take the queue now; m_mutex held.
  bool writer_due() const;

  std::shared_ptr<spdlog::sinks::sink> m_target;
  const size_t m_capacity;
  const std::chrono::milliseconds m_burst_wait;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;  // the writer: records queued, or stop
  std::condition_variable m_idle;  // flush(): the writer has caught up
  std::deque<spdlog::details::log_msg_buffer> m_queue;
  bool m_writing = false;  // the writer holds a batch taken off the queue
  bool m_stopping = false;
  size_t m_holds = 0;            // live Holds
  size_t m_flushes_waiting = 0;  // flush() calls waiting: they override the holds
  size_t m_dropped = 0;
  std::thread m_writer;  // last: it starts once everything above exists
};

}  // namespace luvsup::app
