#include "control/control_server.hpp"

#include "control/request.hpp"
#include "control/socket_path.hpp"
#include "os/unique_fd.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace luvsup::control {

bool socket_is_live(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) {
    return false;
  }
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return false;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

ControlServer::ControlServer(uv_loop_t* loop, std::string path, Handler handler)
    : m_loop(loop), m_path(std::move(path)), m_handler(std::move(handler)), m_reap(loop) {}

std::variant<std::unique_ptr<ControlServer>, std::string>
ControlServer::listen(uv_loop_t* loop, std::string path, Handler handler) {
  if (path.size() > k_max_socket_path) {
    return fmt::format("the control socket path {} is longer than {} bytes", path,
                       k_max_socket_path);
  }
  if (auto error = prepare_socket_dir(path)) {
    return *error;
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return fmt::format("{} exists and is not a socket; not replacing it", path);
    }
    if (socket_is_live(path)) {
      return fmt::format("another luvsup already serves the control socket {}", path);
    }
    spdlog::info("control: replacing the stale socket {}", path);
    ::unlink(path.c_str());
  }
  auto server = std::make_unique<ControlServer>(loop, std::move(path), std::move(handler));
  auto& listener = server->m_listener;
  uv_pipe_init(loop, listener.get(), 0);
  listener.mark_initialised();
  listener->data = server.get();
  // Created 0600 whatever the umask; the 0700 directory is the real fence.
  const mode_t old_umask = ::umask(0177);
  int rc = uv_pipe_bind(listener.get(), server->m_path.c_str());
  ::umask(old_umask);
  if (rc == 0) {
    rc = uv_listen(listener.as_stream(), 128, [](uv_stream_t* s, int status) {
      auto* self = static_cast<ControlServer*>(s->data);
      if (self != nullptr && status == 0) {
        self->on_connection();
      }
    });
  }
  if (rc != 0) {
    return fmt::format("cannot listen on {}: {}", server->m_path, uv_strerror(rc));
  }
  return server;
}

ControlServer::~ControlServer() {
  m_listener.reset();
  m_clients.clear();
  ::unlink(m_path.c_str());
}

void ControlServer::on_connection() {
  auto client = std::make_unique<Connection>(
      [this](Connection& c, std::string_view line) { m_handler(c, line); },
      [this](Connection& c) { on_closed(c); });
  if (!client->accept(m_listener.as_stream())) {
    return;
  }
  m_clients.push_back(std::move(client));
  Connection& added = *m_clients.back();
  const uid_t uid = added.peer_uid();
  if (uid != ::geteuid() && uid != 0) {
    spdlog::warn("control: refused a client with uid {} (pid {}): only uid {} and root may "
                 "control this stack",
                 uid, added.peer_pid(), ::geteuid());
    added.send({{"v", k_protocol_version},
                {"id", nullptr},
                {"ok", false},
                {"error", fmt::format("permission denied: uid {} may not control this stack "
                                      "(only uid {} and root)",
                                      uid, ::geteuid())}});
    added.finish();
  } else if (m_clients.size() > k_max_clients) {
    added.send({{"v", k_protocol_version},
                {"id", nullptr},
                {"ok", false},
                {"error", fmt::format("too many control clients (at most {})", k_max_clients)}});
    added.finish();
  }
}

void ControlServer::on_closed(Connection& connection) {
  auto it = std::find_if(m_clients.begin(), m_clients.end(),
                         [&](const auto& c) { return c.get() == &connection; });
  if (it == m_clients.end()) {
    return;
  }
  // Not destroyed here: the connection is still on the stack that closed it.
  m_closed.push_back(std::move(*it));
  m_clients.erase(it);
  if (!m_reap.active()) {
    m_reap.start(0, [this] { m_closed.clear(); });
  }
}

} // namespace luvsup::control
