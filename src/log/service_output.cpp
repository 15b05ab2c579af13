#include "log/service_output.hpp"

#include "log/console_view.hpp"
#include "log/timestamp_cache.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstring>

namespace luvsup::log {

struct ServiceOutput::Stream {
  Stream(ServiceOutput& owner, size_t max_line)
      : reader([&owner, this](std::string_view chunk) { owner.on_data(*this, chunk); },
               [&owner, this](int status) { owner.on_end(*this, status); }),
        framer(max_line) {}

  PipeReader reader;
  LineFramer framer;
  LogFileWriter* writer = nullptr; // null: console only
  std::string_view tag;            // "", "out" or "err"
  bool is_stderr = false;
};

namespace {

LogFileSettings settings_for(const core::LogSpec& spec, const std::string& path) {
  return LogFileSettings{path, spec.max_size, spec.keep, spec.stall_timeout};
}

} // namespace

ServiceOutput::ServiceOutput(uv_loop_t* loop, std::string service, const core::LogSpec& spec,
                             ConsoleView* console)
    : m_loop(loop), m_service(std::move(service)), m_spec(spec), m_console(console) {}

ServiceOutput::~ServiceOutput() {
  m_on_closed = nullptr;
  detach();
}

std::unique_ptr<LogFileWriter> ServiceOutput::make_writer(const std::string& path) {
  auto writer = std::make_unique<LogFileWriter>(m_loop, m_service, settings_for(m_spec, path));
  LogFileWriter* raw = writer.get();
  writer->set_flow_listener([this, raw](bool paused) { on_flow(raw, paused); });
  return writer;
}

void ServiceOutput::attach(int out_fd, int err_fd) {
  detach();
  if (m_spec.file.empty()) {
    m_out_writer.reset();
  } else if (!m_out_writer) {
    m_out_writer = make_writer(m_spec.file);
  }
  const bool separate = err_fd >= 0;
  const bool own_err_file = separate && !m_spec.stderr_file.empty();
  if (!own_err_file) {
    m_err_writer.reset(); // an old one still writes what it holds, then goes
  } else if (!m_err_writer) {
    m_err_writer = make_writer(m_spec.stderr_file);
  } else {
    m_err_writer->update(settings_for(m_spec, m_spec.stderr_file));
  }
  const int fds[2] = {out_fd, err_fd};
  for (int i = 0; i < 2; ++i) {
    if (fds[i] < 0) {
      continue;
    }
    auto stream = std::make_unique<Stream>(*this, m_spec.max_line);
    stream->is_stderr = i == 1;
    stream->writer = i == 1 && own_err_file ? m_err_writer.get() : m_out_writer.get();
    if (separate && !own_err_file) {
      stream->tag = i == 0 ? "out" : "err";
    }
    if (int rc = stream->reader.open(m_loop, fds[i]); rc != 0) {
      spdlog::error("{}: cannot read the service's output pipe: {}", m_service, uv_strerror(rc));
      continue;
    }
    if (stream->writer != nullptr && stream->writer->paused()) {
      stream->reader.pause();
    }
    m_streams[i] = std::move(stream);
  }
}

void ServiceOutput::end_stream(Stream& stream) {
  stream.framer.finish([&](std::string_view payload, char mark) {
    emit(stream, loop_timestamps().now(), payload, mark);
  });
  if (stream.writer != nullptr) {
    stream.writer->commit();
  }
  stream.reader.close();
}

void ServiceOutput::detach() {
  for (auto& stream : m_streams) {
    if (stream && stream->reader.is_open()) {
      stream->reader.drain(k_drain_limit);
      end_stream(*stream);
    }
    stream.reset();
  }
}

bool ServiceOutput::capturing() const {
  for (const auto& stream : m_streams) {
    if (stream && stream->reader.is_open()) {
      return true;
    }
  }
  return false;
}

void ServiceOutput::set_closed_callback(std::function<void()> callback) {
  m_on_closed = std::move(callback);
}

void ServiceOutput::emit(Stream& stream, std::string_view timestamp, std::string_view payload,
                         char mark) {
  if (stream.writer != nullptr) {
    stream.writer->append(timestamp, stream.tag, mark, payload);
  }
  if (m_console != nullptr) {
    m_console->line(m_service, payload, stream.is_stderr);
  }
  if (m_events != nullptr) {
    m_events->publish(events::LogLine{m_service, timestamp, stream.tag, mark, payload});
  }
  if (m_line_observer && m_line_observer(payload)) {
    m_line_observer = nullptr;
  }
}

void ServiceOutput::set_line_observer(LineObserver observer) {
  m_line_observer = std::move(observer);
}

void ServiceOutput::on_data(Stream& stream, std::string_view chunk) {
  // One timestamp per chunk: the lines in it arrived together. Copied, because
  // the writer may format a marker (and so reuse the cache) meanwhile.
  char timestamp[k_timestamp_width];
  std::memcpy(timestamp, loop_timestamps().now().data(), sizeof timestamp);
  const std::string_view ts(timestamp, sizeof timestamp);
  const bool file_only = stream.writer != nullptr && m_console == nullptr && !m_line_observer &&
                         (m_events == nullptr || m_events->subscriber_count() == 0);
  if (file_only) {
    // The common case, and the one that must keep up with a fast service:
    // records go straight into the writer's buffer (the same bytes emit()
    // would queue).
    RecordBatch records = stream.writer->begin_records(ts, stream.tag);
    stream.framer.feed(
        chunk, [&records](std::string_view payload, char mark) { records.add(mark, payload); });
    stream.writer->end_records(records);
  } else {
    stream.framer.feed(
        chunk, [&](std::string_view payload, char mark) { emit(stream, ts, payload, mark); });
  }
  if (stream.writer != nullptr) {
    stream.writer->commit_soon();
  }
}

void ServiceOutput::on_end(Stream& stream, int status) {
  if (status != 0) {
    spdlog::warn("{}: reading the service's output failed: {}", m_service, uv_strerror(status));
  }
  end_stream(stream);
  if (!capturing() && m_on_closed) {
    auto closed = m_on_closed; // may destroy this object
    closed();
  }
}

void ServiceOutput::on_flow(LogFileWriter* writer, bool paused) {
  for (auto& stream : m_streams) {
    if (stream && stream->writer == writer) {
      if (paused) {
        stream->reader.pause();
      } else {
        stream->reader.resume();
      }
    }
  }
}

void ServiceOutput::update(const core::LogSpec& spec) {
  m_spec = spec;
  if (m_out_writer && !spec.file.empty()) {
    m_out_writer->update(settings_for(spec, spec.file));
  }
  if (m_err_writer && !spec.stderr_file.empty()) {
    m_err_writer->update(settings_for(spec, spec.stderr_file));
  }
  for (auto& stream : m_streams) {
    if (stream) {
      stream->framer.set_max_line(spec.max_line);
    }
  }
}

void ServiceOutput::flush(std::function<void()> done) {
  LogFileWriter* writers[2] = {m_out_writer.get(), m_err_writer.get()};
  auto remaining = std::make_shared<int>(1); // 1 for this call, so done runs once at the end
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  auto one_done = [remaining, shared_done] {
    if (--*remaining == 0) {
      (*shared_done)();
    }
  };
  for (LogFileWriter* writer : writers) {
    if (writer != nullptr) {
      ++*remaining;
      writer->flush(one_done);
    }
  }
  one_done();
}

bool ServiceOutput::held_back() const {
  for (const auto& stream : m_streams) {
    if (stream && stream->reader.is_open() && stream->reader.paused()) {
      return true;
    }
  }
  return false;
}

uint64_t ServiceOutput::dropped_bytes() const {
  return (m_out_writer ? m_out_writer->dropped_total() : 0) +
         (m_err_writer ? m_err_writer->dropped_total() : 0);
}

} // namespace luvsup::log
