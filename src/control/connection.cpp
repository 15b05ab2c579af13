#include "control/connection.hpp"

#include "control/request.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <memory>

namespace luvsup::control {

namespace {

// One write in flight. Owned by libuv between uv_write and its callback,
// which runs even when the connection is closed first (with ECANCELED).
struct PendingWrite {
  uv_write_t req;
  std::string data;
};

} // namespace

Connection::Connection(std::function<void(Connection&, std::string_view)> on_line,
                       std::function<void(Connection&)> on_closed)
    : m_on_line(std::move(on_line)), m_on_closed(std::move(on_closed)) {}

Connection::~Connection() {
  if (m_bus != nullptr) {
    m_bus->unsubscribe(this);
  }
}

bool Connection::accept(uv_stream_t* server) {
  if (uv_pipe_init(server->loop, m_pipe.get(), 0) != 0) {
    return false;
  }
  m_pipe.mark_initialised();
  m_pipe->data = this;
  if (uv_accept(server, m_pipe.as_stream()) != 0) {
    return false;
  }
  uv_os_fd_t fd = -1;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (uv_fileno(m_pipe.as_handle(), &fd) == 0 &&
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    m_peer_uid = cred.uid;
    m_peer_pid = cred.pid;
  }
  uv_read_start(
      m_pipe.as_stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Connection*>(h->data);
        *buf = self != nullptr ? uv_buf_init(self->m_read_buf, sizeof self->m_read_buf)
                               : uv_buf_init(nullptr, 0);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        if (auto* self = static_cast<Connection*>(s->data)) {
          self->on_read(nread, buf);
        }
      });
  return true;
}

void Connection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    close(); // end of file or a reset: nothing more to answer
    return;
  }
  take(std::string_view(buf->base, static_cast<size_t>(nread)));
}

void Connection::take(std::string_view bytes) {
  while (!bytes.empty() && !m_finishing && !m_closed) {
    const size_t newline = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, newline);
    bytes = newline == std::string_view::npos ? std::string_view{} : bytes.substr(newline + 1);
    if (!m_discarding) {
      if (m_in.size() + piece.size() > k_max_request) {
        // Answer now; the rest of the line is read and thrown away.
        m_in.clear();
        m_discarding = true;
        send({{"v", k_protocol_version},
              {"id", nullptr},
              {"ok", false},
              {"error",
               "request too long (more than " + std::to_string(k_max_request) + " bytes)"}});
      } else {
        m_in.append(piece);
      }
    }
    if (newline == std::string_view::npos) {
      return;
    }
    if (m_discarding) {
      m_discarding = false;
      continue;
    }
    std::string line = std::move(m_in);
    m_in.clear();
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      m_on_line(*this, line);
    }
  }
}

void Connection::send(const nlohmann::json& message) {
  if (m_closed) {
    return;
  }
  send_line(message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Connection::send_line(std::string_view json_text) {
  if (m_closed) {
    return;
  }
  m_out += json_text;
  m_out += '\n';
  flush();
}

void Connection::flush() {
  if (m_closed || m_inflight_size > 0 || m_out.empty()) {
    if (m_finishing && m_inflight_size == 0 && m_out.empty()) {
      close();
    }
    return;
  }
  auto pending = std::make_unique<PendingWrite>();
  pending->data = std::move(m_out);
  m_out.clear();
  m_inflight_size = pending->data.size();
  pending->req.data = pending.get();
  uv_buf_t buf = uv_buf_init(pending->data.data(), static_cast<unsigned>(m_inflight_size));
  const int rc =
      uv_write(&pending->req, m_pipe.as_stream(), &buf, 1, [](uv_write_t* req, int status) {
        std::unique_ptr<PendingWrite> done(static_cast<PendingWrite*>(req->data));
        // After the connection is gone the handle's data is null: nothing to do.
        if (auto* self = static_cast<Connection*>(req->handle->data)) {
          self->on_written(status);
        }
      });
  if (rc != 0) {
    m_inflight_size = 0;
    close();
    return;
  }
  (void)pending.release(); // the write callback owns it now
}

void Connection::on_written(int status) {
  m_inflight_size = 0;
  if (status != 0) {
    close(); // the client went away: it costs nothing more
    return;
  }
  flush();
}

void Connection::finish() {
  m_finishing = true;
  if (m_pipe.initialised() && !m_closed) {
    uv_read_stop(m_pipe.as_stream());
  }
  flush();
}

void Connection::follow_logs(events::EventBus& bus, std::set<std::string, std::less<>> services) {
  m_follow = std::move(services);
  m_bus = &bus;
  bus.subscribe(this);
}

void Connection::on_log(const events::LogLine& line) {
  if (!m_follow.empty() && !m_follow.contains(line.service)) {
    return;
  }
  send({{"v", k_protocol_version},
        {"event", "log"},
        {"service", line.service},
        {"time", line.timestamp},
        {"stream", line.stream},
        {"mark", std::string(1, line.mark)},
        {"line", line.payload}});
}

void Connection::on_dropped(size_t backlog) {
  m_bus = nullptr;
  spdlog::warn("control: dropped `logs -f` client pid {} (stopped reading, {} bytes queued)",
               m_peer_pid, backlog);
  // A client that does not read would never see a notice queued behind its
  // backlog: the notice is the log line above, and the stream simply ends.
  close();
}

void Connection::close() {
  if (m_closed) {
    return;
  }
  m_closed = true;
  if (m_bus != nullptr) {
    m_bus->unsubscribe(this);
    m_bus = nullptr;
  }
  m_pipe.reset();
  if (m_on_closed) {
    m_on_closed(*this);
  }
}

} // namespace luvsup::control
