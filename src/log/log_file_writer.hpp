// Writes one log file from the loop without ever blocking it.
//
// Records are appended to a pending buffer on the loop thread; commit() hands
// the buffer to libuv's threadpool, which writes it (rotating as needed) while
// the next records accumulate. One write job is in flight per file, so a busy
// service gets large batches and an idle one holds no buffer at all.
// commit_soon() batches further: a service writing fast is read in chunks of
// one pipe write each (often 64 KiB), and handing each to a pool thread costs
// two thread wake-ups, more than writing it; so it waits for k_batch_size
// bytes, or k_batch_delay seconds at most.
//
// Back-pressure: above k_high_water pending bytes the writer asks its feeders
// to stop reading (the flow listener gets paused = true) and releases them
// once a job has taken the backlog. Nothing is lost on a slow disk.
//
// Failure: a failed write is reported once per episode with spdlog, its batch
// is dropped and counted, the feeders keep reading (a broken disk must not
// stop the service), and writing is retried every k_retry_interval seconds.
// A job in flight for longer than stall_timeout likewise releases the feeders
// and drops what arrives until it returns. Either way a '!' record with the
// number of dropped bytes marks the hole once writing works again.
//
// Lifetime: the state lives in a shared core that the in-flight job also
// owns. Destroying the writer is always safe; the pending bytes are still
// written (one attempt) and the job keeps the loop alive until it is done.
// Timers (stall, retry, releasing buffers k_idle_release s after the last
// write) exist only around activity and never keep the loop alive by
// themselves.
#pragma once

#include "log/byte_buffer.hpp"
#include "log/log_file.hpp"
#include "log/record_format.hpp"

#include <uv.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace luvsup::log {

// The records of one chunk of output, which share a timestamp and a stream
// tag, formatted straight into a writer's pending buffer: the head is made
// once per chunk and the writer's state checked once per chunk, not once per
// record as append() does. Made by LogFileWriter::begin_records() and given
// back to end_records(); the writer must not be used otherwise in between.
class RecordBatch {
public:
  // Same format and same dropping rule as LogFileWriter::append().
  void add(char mark_char, std::string_view payload) {
    if (m_out->size() >= m_limit) {
      m_dropped += original_size(mark_char, payload.size());
      return;
    }
    char* p = m_out->extend(m_head_size + 3 + payload.size());
    // The usual two sizes as constants, so that the copy is a few moves.
    if (m_head_size == k_untagged_head) {
      std::memcpy(p, m_head, k_untagged_head);
    } else if (m_head_size == sizeof m_head) {
      std::memcpy(p, m_head, sizeof m_head);
    } else {
      std::memcpy(p, m_head, m_head_size);
    }
    p += m_head_size;
    p[0] = mark_char;
    p[1] = ' ';
    std::memcpy(p + 2, payload.data(), payload.size());
    p[2 + payload.size()] = '\n';
  }

private:
  friend class LogFileWriter;
  RecordBatch(ByteBuffer& out, size_t limit, std::string_view timestamp, std::string_view tag);
  static constexpr size_t k_untagged_head = k_timestamp_width + 1;

  ByteBuffer* m_out;
  size_t m_limit;              // records are dropped once the buffer holds this much
  uint64_t m_dropped = 0;      // service bytes dropped by add()
  char m_head[k_timestamp_width + 5] = {}; // "<timestamp> " or "<timestamp> <tag> "
  size_t m_head_size = 0;
};

class LogFileWriter {
public:
  static constexpr size_t k_high_water = 1u << 20;
  static constexpr size_t k_low_water = 256u << 10;
  static constexpr double k_retry_interval = 1.0;
  static constexpr double k_idle_release = 1.0; // seconds idle before the buffers are freed
  static constexpr size_t k_batch_size = 256u << 10;
  static constexpr double k_batch_delay = 0.005; // seconds

  // `service` names the service in luvsup's own log messages.
  LogFileWriter(uv_loop_t* loop, std::string service, LogFileSettings settings);
  ~LogFileWriter();
  LogFileWriter(const LogFileWriter&) = delete;
  LogFileWriter& operator=(const LogFileWriter&) = delete;

  // Queues one record; `tag` is empty, "out" or "err". Counts it as dropped
  // instead while writing is stalled, or failing with a full buffer.
  void append(std::string_view timestamp, std::string_view tag, char mark,
              std::string_view payload);
  // Many records with one timestamp and tag, as append() would queue them;
  // see RecordBatch.
  [[nodiscard]] RecordBatch begin_records(std::string_view timestamp, std::string_view tag);
  void end_records(const RecordBatch& batch);
  // Starts writing what was appended, unless a job is in flight or a retry is
  // scheduled (then it goes with the next job).
  void commit();
  // Like commit() once k_batch_size bytes are pending; below that, commits
  // k_batch_delay seconds after the first uncommitted record (unless a job
  // in flight takes them first).
  void commit_soon();
  // New settings: apply from the next job; a new path is opened then. A new
  // path also retries at once when writing was failing.
  void update(LogFileSettings settings);
  [[nodiscard]] const LogFileSettings& settings() const;

  // Calls `done` once every byte appended so far is written or dropped; at
  // once (before returning) when nothing is pending.
  void flush(std::function<void()> done);
  // Called with true when the feeders must stop reading, false to resume.
  void set_flow_listener(std::function<void(bool paused)> listener);
  [[nodiscard]] bool paused() const;
  // True while no job is in flight, nothing is pending and no retry waits.
  // (Buffers are freed k_idle_release seconds after becoming idle.)
  [[nodiscard]] bool idle() const;
  // Formatted bytes appended and not yet handed to a write job.
  [[nodiscard]] size_t pending_bytes() const;
  // Service bytes dropped so far (for status and tests).
  [[nodiscard]] uint64_t dropped_total() const;

  class Core; // defined in the .cpp; public so the threadpool trampolines see it

private:
  std::shared_ptr<Core> m_core;
};

} // namespace luvsup::log
