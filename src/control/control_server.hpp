// The control socket: a Unix stream socket in a 0700 directory that accepts
// clients, checks who they are and hands each request line to a handler.
//
// Only the owner of the supervisor (its effective uid) and root may control
// the stack: other clients get an error reply and are disconnected. A socket
// file left by a crashed luvsup (nobody accepts on it) is replaced; one that
// a live luvsup serves is not touched. The per-stack flock stays the guard
// against two supervisors; this check only covers two stacks configured
// with the same socket path.
#pragma once

#include "control/connection.hpp"
#include "uv/handle.hpp"
#include "uv/timer.hpp"

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace luvsup::control {

class ControlServer {
public:
  using Handler = std::function<void(Connection&, std::string_view line)>;

  // Most clients served at once; more are refused with an error reply.
  static constexpr size_t k_max_clients = 256;

  // Binds and listens at `path` (its directory is created 0700). Returns the
  // server, or why it could not listen.
  static std::variant<std::unique_ptr<ControlServer>, std::string>
  listen(uv_loop_t* loop, std::string path, Handler handler);
  // Use listen(); public only for std::make_unique.
  ControlServer(uv_loop_t* loop, std::string path, Handler handler);
  // Stops listening, closes every client and removes the socket file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return m_path; }

private:
  void on_connection();
  void on_closed(Connection& connection);

  uv_loop_t* m_loop;
  std::string m_path;
  Handler m_handler;
  uv::UvHandle<uv_pipe_t> m_listener;
  std::vector<std::unique_ptr<Connection>> m_clients;
  std::vector<std::unique_ptr<Connection>> m_closed; // freed on the next loop turn
  uv::Timer m_reap;
};

// Whether something accepts connections at `path` right now.
bool socket_is_live(const std::string& path);

} // namespace luvsup::control
