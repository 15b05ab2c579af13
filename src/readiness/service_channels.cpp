#include "readiness/service_channels.hpp"

#include "readiness/notify_path.hpp"

#include <unistd.h>

#include <cmath>

namespace luvsup::readiness {

bool ServiceChannels::wanted(const core::ServiceSpec& spec) {
  return spec.ready.notify || spec.watchdog > 0 || spec.ready.fd >= 0 ||
         !spec.ready.log_pattern.empty();
}

ServiceChannels::ServiceChannels(double watchdog, std::unique_ptr<core::Timer> timer,
                                 ReadinessState::Emit emit, int fd_target)
    : m_state(watchdog, std::move(timer), std::move(emit)), m_fd_target(fd_target),
      m_watchdog_usec(watchdog > 0 ? std::llround(watchdog * 1e6) : 0) {}

std::variant<std::unique_ptr<ServiceChannels>, std::string>
ServiceChannels::open(uv_loop_t* loop, const core::ServiceSpec& spec, const std::string& state_dir,
                      std::unique_ptr<core::Timer> watchdog_timer, ReadinessState::Emit emit,
                      std::optional<ChildUser> user) {
  std::unique_ptr<ServiceChannels> self(new ServiceChannels(
      spec.watchdog, std::move(watchdog_timer), std::move(emit), spec.ready.fd));
  if (spec.ready.notify || spec.watchdog > 0) {
    const bool foreign = user && user->uid != ::geteuid();
    const NotifyPath where = foreign ? notify_path_for_user(state_dir, spec.name, user->uid)
                                     : notify_path_for(state_dir, spec.name);
    std::optional<SocketOwner> owner;
    if (foreign) {
      owner = SocketOwner{user->uid, user->gid,
                          notify_path_for_user(state_dir, spec.name, ::geteuid()).dir};
      if (auto error = ensure_private_dir(owner->staging_dir)) {
        return "notify socket: " + *error;
      }
    }
    if (auto error = foreign ? ensure_private_dir(where.dir, user->uid, user->gid)
                             : ensure_private_dir(where.dir)) {
      return "notify socket: " + *error;
    }
    auto opened = NotifySocket::open(
        loop, where.path, spec.name,
        [state = &self->m_state](const NotifyMessage& message, pid_t) {
          state->on_notify(message);
        },
        owner);
    if (auto* error = std::get_if<std::string>(&opened)) {
      return "notify socket: " + *error;
    }
    self->m_notify = std::move(std::get<std::unique_ptr<NotifySocket>>(opened));
  }
  if (spec.ready.fd >= 0) {
    auto opened =
        ReadyFd::open(loop, spec.name, [state = &self->m_state] { state->on_ready("fd"); });
    if (auto* error = std::get_if<std::string>(&opened)) {
      return "readiness descriptor: " + *error;
    }
    self->m_ready_fd = std::move(std::get<std::unique_ptr<ReadyFd>>(opened));
  }
  return self;
}

std::vector<std::pair<std::string, std::string>> ServiceChannels::child_env() const {
  std::vector<std::pair<std::string, std::string>> env;
  if (m_notify) {
    env.emplace_back("NOTIFY_SOCKET", m_notify->path());
  }
  if (m_watchdog_usec > 0) {
    env.emplace_back("WATCHDOG_USEC", std::to_string(m_watchdog_usec));
  }
  return env;
}

process::InheritedFd ServiceChannels::child_fd() const {
  if (!m_ready_fd || m_ready_fd->write_end() < 0) {
    return {};
  }
  return {m_ready_fd->write_end(), m_fd_target};
}

void ServiceChannels::child_started() {
  if (m_ready_fd) {
    m_ready_fd->close_write_end();
  }
}

} // namespace luvsup::readiness
