// Captures one service's stdout and stderr into its log file(s) and the
// console view. The glue between pipe readers, line framers and log writers.
//
// Which file a stream goes to, and with which stream tag:
//   err_fd == -1 (merged: one pipe for both)      -> spec.file, no tag
//   err_fd >= 0, spec.stderr_file empty            -> spec.file, "out"/"err"
//   err_fd >= 0, spec.stderr_file set              -> spec.file and
//                                                     spec.stderr_file, no tag
// An empty spec.file captures to the console only.
//
// Back-pressure runs from each writer to the pipes feeding it: a writer that
// falls behind stops its pipes, so the service blocks on its own full pipe.
#pragma once

#include "core/service_spec.hpp"
#include "events/event_bus.hpp"
#include "log/line_framer.hpp"
#include "log/log_file_writer.hpp"
#include "log/pipe_reader.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

namespace luvsup::log {

class ConsoleView;

class ServiceOutput {
public:
  // `console` may be null (no terminal view) and must outlive this object.
  ServiceOutput(uv_loop_t* loop, std::string service, const core::LogSpec& spec,
                ConsoleView* console);
  // Detaches; bytes still pending are written in the background (the loop
  // keeps running until they are).
  ~ServiceOutput();
  ServiceOutput(const ServiceOutput&) = delete;
  ServiceOutput& operator=(const ServiceOutput&) = delete;

  // Starts capturing from the read ends of a freshly spawned process's pipes
  // (err_fd = -1 when stdout and stderr share out_fd). Takes ownership of both
  // fds, even on failure. Detaches from earlier pipes first. Structural
  // settings (files, separation) are taken from the spec at this point.
  void attach(int out_fd, int err_fd);
  // Stops capturing: reads what the pipes hold right now, writes unfinished
  // lines (marked '%') and closes the pipes.
  void detach();
  // True while any pipe is open (the process, or a child of it, may write).
  [[nodiscard]] bool capturing() const;
  // Called whenever capture ends on its own: every pipe reached end of file.
  // A process is "done" once it exited and this has been called.
  void set_closed_callback(std::function<void()> callback);
  // Sees each record of the output (a line, or a piece of a line longer than
  // max_line) of both streams, in order; returns true to be removed. Used by
  // `ready = { log = ... }`, so it costs nothing once the service is ready.
  using LineObserver = std::function<bool(std::string_view record)>;
  // Sets (or, with nullptr, removes) the observer. Set it after attach():
  // attach() drains the previous process's pipes through emit.
  void set_line_observer(LineObserver observer);
  // New settings (reload): paths, sizes, max_line and stall_timeout apply at
  // once; a new path is opened with the next write. Whether stderr is
  // separate, and into which file, changes at the next attach().
  void update(const core::LogSpec& spec);
  // Calls `done` once every byte read so far is on disk or dropped; maybe
  // before returning.
  void flush(std::function<void()> done);
  // True while reading is paused because a log writer is behind.
  [[nodiscard]] bool held_back() const;
  // Every record written from now on is also published to `bus` (may be
  // null; must outlive this object).
  void set_event_bus(events::EventBus* bus) { m_events = bus; }
  // Service bytes dropped so far (failing or stalled disk).
  [[nodiscard]] uint64_t dropped_bytes() const;

  static constexpr size_t k_drain_limit = 1u << 20;

private:
  struct Stream;
  void emit(Stream& stream, std::string_view timestamp, std::string_view payload, char mark);
  void on_data(Stream& stream, std::string_view chunk);
  void on_end(Stream& stream, int status);
  void on_flow(LogFileWriter* writer, bool paused);
  void end_stream(Stream& stream);
  std::unique_ptr<LogFileWriter> make_writer(const std::string& path);

  uv_loop_t* m_loop;
  std::string m_service;
  core::LogSpec m_spec;
  ConsoleView* m_console;
  std::unique_ptr<LogFileWriter> m_out_writer;
  std::unique_ptr<LogFileWriter> m_err_writer; // only with a separate stderr_file
  std::unique_ptr<Stream> m_streams[2];        // stdout (or merged), stderr
  std::function<void()> m_on_closed;
  events::EventBus* m_events = nullptr;
  LineObserver m_line_observer;  // empty unless a ready log pattern waits for its line
};

} // namespace luvsup::log
