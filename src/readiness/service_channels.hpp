// Everything that watches one run of one service for readiness: its notify
// socket, its readiness pipe and its watchdog, as its spec asks.
//
// UvPlatform opens a fresh set before each spawn (a restarted service gets a
// fresh socket), hands the child its part (child_env, child_fd), and destroys
// the set once the service's processes are gone: the socket file is removed,
// the pipe closed, the watchdog stopped. A ready log line is fed in through
// state().on_ready("log", line) by the platform's line observer.
#pragma once

#include "core/platform.hpp"
#include "core/service_spec.hpp"
#include "process/launcher.hpp"
#include "readiness/notify_socket.hpp"
#include "readiness/readiness_state.hpp"
#include "readiness/ready_fd.hpp"

#include <uv.h>

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace luvsup::readiness {

// The user a service runs as, when luvsup switches to it (luvsup is root).
struct ChildUser {
  uid_t uid = 0;
  gid_t gid = 0;
};

class ServiceChannels {
public:
  // Whether `spec` asks for any readiness channel or a watchdog.
  static bool wanted(const core::ServiceSpec& spec);

  // Opens the notify socket (for ready.notify or a watchdog) under
  // `state_dir`, or, for a service running as another `user`, in that
  // user's own directory (see notify_path.hpp), and the readiness pipe (for
  // ready.fd). Signals go to `emit`, which must not destroy this object
  // (record and defer). Returns why a channel could not be opened ("notify
  // socket: bind ...: ...").
  static std::variant<std::unique_ptr<ServiceChannels>, std::string>
  open(uv_loop_t* loop, const core::ServiceSpec& spec, const std::string& state_dir,
       std::unique_ptr<core::Timer> watchdog_timer, ReadinessState::Emit emit,
       std::optional<ChildUser> user = std::nullopt);
  ServiceChannels(const ServiceChannels&) = delete;
  ServiceChannels& operator=(const ServiceChannels&) = delete;

  // NOTIFY_SOCKET=<path> with a notify socket; WATCHDOG_USEC=<µs> with a
  // watchdog (what sd_watchdog_enabled(3) reads).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> child_env() const;
  // The readiness pipe's write end and its number in the child, or {-1, -1}.
  [[nodiscard]] process::InheritedFd child_fd() const;
  // The child has its copies: luvsup closes its write end of the pipe.
  void child_started();

  [[nodiscard]] ReadinessState& state() { return m_state; }
  [[nodiscard]] const NotifySocket* notify_socket() const { return m_notify.get(); }

private:
  ServiceChannels(double watchdog, std::unique_ptr<core::Timer> timer, ReadinessState::Emit emit,
                  int fd_target);

  ReadinessState m_state; // first: the channels below call into it until they are gone
  int m_fd_target;
  long long m_watchdog_usec = 0;
  std::unique_ptr<NotifySocket> m_notify;
  std::unique_ptr<ReadyFd> m_ready_fd;
};

} // namespace luvsup::readiness
