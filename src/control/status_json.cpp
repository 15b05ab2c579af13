#include "control/status_json.hpp"

#include <csignal>
#include <cstring>

namespace luvsup::control {

namespace {

using nlohmann::json;

json exit_json(const core::ExitRecord& exit, double now) {
  json out = {
      {"cause", core::to_string(exit.cause)},
      {"code", exit.status.signal == 0 && exit.cause != core::ExitCause::spawn_failed
                   ? json(exit.status.code)
                   : json(nullptr)},
      {"signal", nullptr},
      {"core_dumped", exit.status.core_dumped},
      {"uptime", exit.uptime},
      {"time", exit.wall_time},
      {"ago", now - exit.time},
      {"description", core::describe(exit)},
  };
  if (exit.status.signal != 0) {
    const char* abbrev = sigabbrev_np(exit.status.signal);
    out["signal"] =
        abbrev != nullptr ? json(std::string("SIG") + abbrev) : json(exit.status.signal);
  }
  return out;
}

} // namespace

json status_reason(const core::Supervisor& supervisor, const core::Service& service) {
  switch (service.state()) {
  case core::ProcState::fatal:
    return service.fatal_reason().empty() ? json(nullptr) : json(service.fatal_reason());
  case core::ProcState::starting: {
    std::string waiting;
    for (const auto& dep : service.spec().depends_on) {
      const core::Service* other = supervisor.find(dep.name);
      const bool met = other != nullptr &&
                       (dep.condition == "completed" ? other->state() == core::ProcState::completed
                                                     : other->started());
      if (!met) {
        waiting +=
            (waiting.empty() ? "waiting for " : ", ") + dep.name + " (" + dep.condition + ")";
        if (other != nullptr && supervisor.held_down(*other)) {
          waiting += ", stopped by the user";
        }
      }
    }
    return waiting.empty() ? json(nullptr) : json(waiting);
  }
  default:
    if (supervisor.held_down(service)) {
      return "stopped by the user (luvsup start clears it)";
    }
    return nullptr;
  }
}

json service_status(const core::Supervisor& supervisor, const core::Service& service, double now) {
  const bool has_pid = service.has_process() && service.pid() > 0;
  json out = {
      {"name", service.name()},
      {"state", core::to_string(service.state())},
      {"pid", service.main_running() ? json(service.pid()) : json(nullptr)},
      {"uptime", has_pid ? json(now - service.started_at()) : json(nullptr)},
      {"restarts", service.restarts()},
      {"wanted", service.wanted_up() ? "up" : "down"},
      {"held_down", supervisor.held_down(service)},
      {"reason", status_reason(supervisor, service)},
      {"last_exit", nullptr},
      // Filled by health checks: status "starting", "healthy" or "unhealthy"
      // (null: the service has no health check), since (seconds since the
      // epoch), consecutive failures and the last probe error.
      {"health",
       {{"status", nullptr}, {"since", nullptr}, {"failures", 0}, {"last_error", nullptr}}},
  };
  if (!service.history().empty()) {
    out["last_exit"] = exit_json(service.history().back(), now);
  }
  return out;
}

} // namespace luvsup::control
