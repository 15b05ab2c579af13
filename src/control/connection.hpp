// One client of the control socket: reads request lines, writes reply lines.
//
// Reading is capped: a line longer than k_max_request is answered with an
// error and skipped up to its newline, so no client can make luvsup buffer
// without bound. Writing goes through one outgoing buffer with one uv_write
// in flight; backlog() reports what is queued, which the event bus uses to
// drop a `logs -f` client that stopped reading.
#pragma once

#include "events/event_bus.hpp"
#include "uv/handle.hpp"

#include <nlohmann/json.hpp>

#include <sys/types.h>
#include <uv.h>

#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace luvsup::control {

class Connection final : public events::Subscriber {
public:
  // `on_line` gets each complete request line; `on_closed` runs once when
  // the connection is finished (the owner then destroys it, not inside).
  Connection(std::function<void(Connection&, std::string_view)> on_line,
             std::function<void(Connection&)> on_closed);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts the next pending client of `server`; false when that failed.
  bool accept(uv_stream_t* server);
  uid_t peer_uid() const { return m_peer_uid; }
  pid_t peer_pid() const { return m_peer_pid; }

  // Queues one JSON line (invalid UTF-8 in strings is replaced).
  void send(const nlohmann::json& message);
  // Queues one line of JSON text written elsewhere (without its newline).
  void send_line(std::string_view json_text);
  // Closes after what is queued is written; no further request is read.
  void finish();
  // Closes now, dropping what is queued.
  void close();

  // Streams service output (of `services`, or all when empty) as log events
  // until the client goes away or the bus drops it.
  void follow_logs(events::EventBus& bus, std::set<std::string, std::less<>> services);

  size_t backlog() const override { return m_out.size() + m_inflight_size; }
  void on_log(const events::LogLine& line) override;
  void on_dropped(size_t backlog) override;

private:
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void take(std::string_view bytes);
  void flush();
  void on_written(int status);

  std::function<void(Connection&, std::string_view)> m_on_line;
  std::function<void(Connection&)> m_on_closed;
  uv::UvHandle<uv_pipe_t> m_pipe;
  uid_t m_peer_uid = static_cast<uid_t>(-1);
  pid_t m_peer_pid = 0;
  std::string m_in;
  bool m_discarding = false; // skipping the rest of an oversized line
  std::string m_out;
  size_t m_inflight_size = 0;
  bool m_finishing = false;
  bool m_closed = false;
  char m_read_buf[4096];
  events::EventBus* m_bus = nullptr;
  std::set<std::string, std::less<>> m_follow;
};

} // namespace luvsup::control
