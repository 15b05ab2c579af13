#include "log/log_file_writer.hpp"

#include "log/byte_buffer.hpp"
#include "log/record_format.hpp"
#include "log/timestamp_cache.hpp"
#include "uv/timer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace luvsup::log {

class LogFileWriter::Core : public std::enable_shared_from_this<Core> {
public:
  Core(uv_loop_t* loop, std::string service, LogFileSettings settings)
      : m_loop(loop), m_service(std::move(service)), m_settings(std::move(settings)) {}

  void append(std::string_view ts, std::string_view tag, char mark, std::string_view payload);
  void start_job();
  void commit_soon();
  void on_job_done();
  bool hold_after_error(const WriteOutcome& out);
  void on_stall();
  void schedule_retry();
  void set_paused(bool paused);
  void append_marker(ByteBuffer& out);
  void drop(uint64_t bytes) {
    m_dropped += bytes;
    m_dropped_total += bytes;
  }
  uv::Timer& timer() {
    if (!m_timer) {
      m_timer.emplace(m_loop);
      m_timer->unref(); // in-flight jobs keep the loop alive; timers need not
    }
    return *m_timer;
  }
  void release_if_idle() {
    if (!m_in_flight && m_pending.empty() && !m_retry_scheduled) {
      m_batch.release();
      m_pending.release();
      m_timer.reset();
      m_batch_timer.reset();
    }
  }
  bool may_start() const { return !m_in_flight && !m_retry_scheduled && !m_pending.empty(); }
  void cancel_retry() {
    if (m_retry_scheduled) {
      m_retry_scheduled = false;
      m_timer->stop();
    }
  }

  // Loop-thread state.
  uv_loop_t* m_loop;
  std::string m_service;
  LogFileSettings m_settings;
  ByteBuffer m_pending;
  std::function<void(bool)> m_flow;
  std::vector<std::function<void()>> m_waiters;
  std::optional<uv::Timer> m_timer; // exists only while a job or a retry is pending
  std::optional<uv::Timer> m_batch_timer; // commit_soon()'s deadline; freed with the buffers
  bool m_in_flight = false;
  bool m_retry_scheduled = false;
  bool m_paused = false;
  bool m_stalled = false;
  bool m_failing = false;
  bool m_orphaned = false;
  bool m_rotate_warned = false;
  double m_error_since = -1; // loop time of the first write error of the episode, or -1
  uint64_t m_dropped = 0; // not yet announced by a marker
  uint64_t m_dropped_total = 0;
  uint64_t m_marker_count = 0; // what the marker at the head of the job's batch announces
  std::string m_drop_reason;

  // Job state: the worker thread owns it while m_in_flight.
  ByteBuffer m_batch;
  LogFileSettings m_job_settings;
  LogFile m_file;
  WriteOutcome m_outcome;
};

namespace {

struct Job {
  uv_work_t req{};
  std::shared_ptr<LogFileWriter::Core> core;
};

} // namespace

void LogFileWriter::Core::append(std::string_view ts, std::string_view tag, char mark,
                                 std::string_view payload) {
  if (m_stalled || (m_failing && m_pending.size() >= k_high_water)) {
    drop(original_size(mark, payload.size()));
    return;
  }
  append_record(m_pending, ts, tag, mark, payload);
  if (!m_paused && !m_failing && m_pending.size() >= k_high_water) {
    set_paused(true);
  }
}

void LogFileWriter::Core::append_marker(ByteBuffer& out) {
  const std::string text = fmt::format("luvsup: {} bytes dropped ({})", m_dropped, m_drop_reason);
  append_record(out, loop_timestamps().now(), {}, mark::k_dropped, text);
}

void LogFileWriter::Core::set_paused(bool paused) {
  if (m_paused == paused) {
    return;
  }
  m_paused = paused;
  if (m_flow) {
    auto flow = m_flow; // the listener may replace itself
    flow(paused);
  }
}

void LogFileWriter::Core::start_job() {
  m_batch.clear();
  m_marker_count = 0;
  if (m_failing && m_dropped > 0) {
    // Recovery attempt: the marker heads the batch, so it lands first if it works.
    append_marker(m_batch);
    m_marker_count = m_dropped;
  }
  if (m_batch.empty()) {
    m_batch.swap(m_pending);
  } else {
    m_batch.append(m_pending.view());
  }
  m_pending.clear();
  if (m_batch.empty()) {
    return;
  }
  m_job_settings = m_settings;
  auto job = std::make_unique<Job>();
  job->core = shared_from_this();
  job->req.data = job.get();
  const int rc = uv_queue_work(
      m_loop, &job->req,
      [](uv_work_t* req) {
        auto& core = *static_cast<Job*>(req->data)->core;
        try {
          core.m_outcome = core.m_file.write(core.m_job_settings, core.m_batch.view());
        } catch (...) {
          core.m_outcome = WriteOutcome{ENOMEM, 0, original_size_of_records(core.m_batch.view())};
        }
      },
      [](uv_work_t* req, int) {
        std::unique_ptr<Job> done(static_cast<Job*>(req->data));
        auto core = std::move(done->core); // keeps an orphaned core alive through the call
        try {
          core->on_job_done();
        } catch (const std::exception& e) {
          spdlog::error("{}: log writer: {}", core->m_service, e.what());
        }
      });
  if (rc != 0) {
    m_outcome = WriteOutcome{EAGAIN, 0, original_size_of_records(m_batch.view())};
    on_job_done();
    return;
  }
  job.release(); // owned by the request until the after-work callback
  m_in_flight = true;
  if (!m_orphaned && m_settings.stall_timeout > 0) {
    timer().start(m_settings.stall_timeout, [this] { on_stall(); });
  }
  if (m_paused && m_pending.size() < k_low_water) {
    set_paused(false);
  }
}

void LogFileWriter::Core::commit_soon() {
  if (!may_start()) {
    return; // nothing to do, or the job in flight (or the retry) takes it when done
  }
  if (m_pending.size() >= k_batch_size || m_orphaned || !m_waiters.empty()) {
    start_job();
    return;
  }
  if (!m_batch_timer) {
    m_batch_timer.emplace(m_loop);
    m_batch_timer->unref(); // flush() and the destructor commit what is left
  }
  if (!m_batch_timer->active()) {
    m_batch_timer->start(k_batch_delay, [this] {
      try {
        if (may_start()) {
          start_job();
        }
      } catch (const std::exception& e) {
        spdlog::error("{}: log writer: {}", m_service, e.what());
      }
    });
  }
}

void LogFileWriter::Core::on_stall() {
  if (!m_in_flight || m_stalled) {
    return;
  }
  m_stalled = true;
  if (!m_failing) {
    m_drop_reason =
        fmt::format("log write stalled for more than {} s", m_job_settings.stall_timeout);
  }
  spdlog::error("{}: log write to {} stalled for more than {} s; output is dropped until it "
                "completes",
                m_service, m_job_settings.path, m_job_settings.stall_timeout);
  set_paused(false); // the service must not wait on a stuck disk
}

void LogFileWriter::Core::schedule_retry() {
  m_retry_scheduled = true;
  timer().start(k_retry_interval, [this] {
    m_retry_scheduled = false;
    try {
      start_job();
    } catch (const std::exception& e) {
      spdlog::error("{}: log writer: {}", m_service, e.what());
    }
  });
}

bool LogFileWriter::Core::hold_after_error(const WriteOutcome& out) {
  // A disk error is often brief (a full disk someone is cleaning up): keep
  // what was not written and let back-pressure hold the service, for up to
  // the stall timeout. Only after that is output dropped. Nobody can wait at
  // shutdown or for an orphaned writer, and a marker in the batch means the
  // episode already reached the dropping stage.
  if (m_failing || m_orphaned || !m_waiters.empty() || m_job_settings.stall_timeout <= 0) {
    return false;
  }
  const double now = static_cast<double>(uv_now(m_loop)) / 1000.0;
  if (m_error_since < 0) {
    m_error_since = now;
    spdlog::warn("{}: log write failed: {}: {}; holding output for up to {} s", m_service,
                 m_job_settings.path, std::strerror(out.error), m_job_settings.stall_timeout);
  }
  if (now - m_error_since >= m_job_settings.stall_timeout) {
    return false;
  }
  ByteBuffer held;
  held.append(m_batch.view().substr(static_cast<size_t>(out.written)));
  held.append(m_pending.view());
  m_pending.swap(held);
  m_batch.clear();
  if (m_pending.size() >= k_high_water) {
    set_paused(true);
  }
  schedule_retry();
  return true;
}

void LogFileWriter::Core::on_job_done() {
  m_in_flight = false;
  if (m_timer) {
    m_timer->stop();
  }
  const WriteOutcome out = m_outcome;
  const bool was_stalled = std::exchange(m_stalled, false);
  if (out.rotate_error != 0 && !m_rotate_warned) {
    spdlog::warn("{}: log rotation of {} failed: {}; the file grows past its size limit", m_service,
                 m_job_settings.path, std::strerror(out.rotate_error));
  }
  m_rotate_warned = out.rotate_error != 0;
  if (out.error != 0 && hold_after_error(out)) {
    // Held: nothing dropped yet, the retry is scheduled.
  } else if (out.error != 0) {
    drop(out.dropped_original);
    m_drop_reason = fmt::format("log write failed: {}", std::strerror(out.error));
    if (!m_failing) {
      m_failing = true;
      spdlog::error("{}: log write failed: {}: {}; output is dropped until it recovers", m_service,
                    m_job_settings.path, std::strerror(out.error));
    }
    set_paused(false); // keep reading: a broken disk must not block the service
    if (m_orphaned || !m_waiters.empty()) {
      // Nobody can wait for the retry: what is pending now is dropped too.
      drop(original_size_of_records(m_pending.view()));
      m_pending.clear();
    }
    if (!m_orphaned) {
      schedule_retry();
    }
  } else {
    m_error_since = -1;
    if (m_failing || was_stalled) {
      spdlog::info("{}: log writing recovered; {} bytes dropped", m_service, m_dropped);
    }
    m_failing = false;
    m_dropped -= m_marker_count;
    if (m_dropped > 0) {
      append_marker(m_pending); // right where the hole is: after what was kept
      m_dropped = 0;
    }
  }
  if (!m_pending.empty() && !m_retry_scheduled) {
    m_batch.clear();
    commit_soon();
  }
  if (!m_in_flight && m_pending.empty()) {
    // Idle. The buffers go after a short grace, not at once: a steady stream
    // goes idle between chunks, and reallocating (and page-faulting) the
    // buffers for every chunk costs more than the copy itself.
    if (m_orphaned) {
      release_if_idle();
    } else if (!m_retry_scheduled) {
      timer().start(k_idle_release, [this] { release_if_idle(); });
    }
    auto waiters = std::exchange(m_waiters, {});
    for (auto& done : waiters) {
      done(); // may destroy the writer; the caller holds the core
    }
  }
}

LogFileWriter::LogFileWriter(uv_loop_t* loop, std::string service, LogFileSettings settings)
    : m_core(std::make_shared<Core>(loop, std::move(service), std::move(settings))) {}

LogFileWriter::~LogFileWriter() {
  Core& c = *m_core;
  c.m_orphaned = true;
  c.m_flow = nullptr;
  if (!c.m_in_flight) {
    c.cancel_retry();
    try {
      // One last attempt; the job owns the core from here on.
      if (!c.m_pending.empty() || (c.m_failing && c.m_dropped > 0)) {
        c.start_job();
      }
    } catch (...) {
    }
    c.release_if_idle();
  }
}

void LogFileWriter::append(std::string_view timestamp, std::string_view tag, char mark,
                           std::string_view payload) {
  m_core->append(timestamp, tag, mark, payload);
}

RecordBatch::RecordBatch(ByteBuffer& out, size_t limit, std::string_view timestamp,
                         std::string_view tag)
    : m_out(&out), m_limit(limit) {
  // The same head as append_record() makes: a 23-byte timestamp, a space, and
  // a 3-letter tag and a space when there is one.
  const size_t ts = std::min(timestamp.size(), k_timestamp_width);
  std::memcpy(m_head, timestamp.data(), ts);
  m_head[ts] = ' ';
  m_head_size = ts + 1;
  if (!tag.empty()) {
    const size_t t = std::min<size_t>(tag.size(), 3);
    std::memcpy(m_head + m_head_size, tag.data(), t);
    m_head[m_head_size + t] = ' ';
    m_head_size += t + 1;
  }
}

RecordBatch LogFileWriter::begin_records(std::string_view timestamp, std::string_view tag) {
  const Core& c = *m_core;
  const size_t limit = c.m_stalled   ? 0
                       : c.m_failing ? k_high_water
                                     : std::numeric_limits<size_t>::max();
  return RecordBatch(m_core->m_pending, limit, timestamp, tag);
}

void LogFileWriter::end_records(const RecordBatch& batch) {
  Core& c = *m_core;
  c.drop(batch.m_dropped);
  // As append(): only records kept (neither stalled nor failing) hold the feeders back.
  if (!c.m_stalled && !c.m_paused && !c.m_failing && c.m_pending.size() >= k_high_water) {
    c.set_paused(true);
  }
}

void LogFileWriter::commit() {
  Core& c = *m_core;
  if (c.may_start()) {
    c.start_job();
  }
}

void LogFileWriter::commit_soon() {
  m_core->commit_soon();
}

void LogFileWriter::update(LogFileSettings settings) {
  Core& c = *m_core;
  const bool moved = settings.path != c.m_settings.path;
  c.m_settings = std::move(settings);
  if (moved && c.m_retry_scheduled) {
    c.cancel_retry(); // the new path may well work: try it now
    c.start_job();
  }
}

const LogFileSettings& LogFileWriter::settings() const {
  return m_core->m_settings;
}

void LogFileWriter::flush(std::function<void()> done) {
  Core& c = *m_core;
  if (!c.m_in_flight && c.m_pending.empty()) {
    done();
    return;
  }
  c.m_waiters.push_back(std::move(done));
  if (!c.m_in_flight) {
    c.cancel_retry();
    c.start_job();
  }
}

void LogFileWriter::set_flow_listener(std::function<void(bool paused)> listener) {
  m_core->m_flow = std::move(listener);
}

bool LogFileWriter::paused() const {
  return m_core->m_paused;
}

bool LogFileWriter::idle() const {
  const Core& c = *m_core;
  return !c.m_in_flight && c.m_pending.empty() && !c.m_retry_scheduled;
}

size_t LogFileWriter::pending_bytes() const {
  return m_core->m_pending.size();
}

uint64_t LogFileWriter::dropped_total() const {
  return m_core->m_dropped_total;
}

} // namespace luvsup::log
