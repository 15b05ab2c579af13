#include "control/status_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace luvsup::control {

namespace {

using nlohmann::json;

// The cause as the status schema names it: "spawn_failed", "killed_by_health".
std::string cause_name(core::ExitCause cause) {
  std::string name(core::to_string(cause));
  std::replace(name.begin(), name.end(), ' ', '_');
  if (name == "killed_by_health_check") {
    name = "killed_by_health";
  }
  return name;
}

// How it ended, with why when luvsup ended it ("restarted by reload: killed
// by signal TERM"), so a stop never reads like a crash.
std::string exit_description(const core::ExitRecord& exit) {
  switch (exit.cause) {
  case core::ExitCause::crashed:
  case core::ExitCause::completed:
  case core::ExitCause::spawn_failed:
  case core::ExitCause::start_refused: return core::describe(exit);
  default: return fmt::format("{}: {}", core::to_string(exit.cause), core::describe(exit));
  }
}

json exit_json(const core::ExitRecord& exit, double now) {
  json out = {
      {"cause", cause_name(exit.cause)},
      {"code", exit.status.signal == 0 && exit.cause != core::ExitCause::spawn_failed &&
                       exit.cause != core::ExitCause::start_refused
                   ? json(exit.status.code)
                   : json(nullptr)},
      {"signal", nullptr},
      {"core_dumped", exit.status.core_dumped},
      {"uptime", exit.uptime},
      {"time", exit.wall_time},
      {"ago", now - exit.time},
      {"description", exit_description(exit)},
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
  case core::ProcState::blocked:
    return service.block_reason().empty() ? json(nullptr) : json(service.block_reason());
  case core::ProcState::preparing: return "its before_start hook runs";
  case core::ProcState::finishing: return "its after_stop hook runs";
  case core::ProcState::starting: {
    std::string waiting;
    for (const auto& dep : service.spec().depends_on) {
      const core::Service* other = supervisor.find(dep.name);
      if (other != nullptr && !supervisor.condition_met(*other, dep.condition)) {
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

json last_reload_json(const core::LastReload& last) {
  if (!last.attempted) {
    return nullptr;
  }
  return {{"ok", last.ok}, {"trigger", last.trigger}, {"message", last.message}, {"time", last.wall_time}};
}

json service_status(const core::Supervisor& supervisor, const core::Service& service, double now,
                    double wall_now) {
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
      {"health",
       {{"status", nullptr},
        {"since", nullptr},
        {"failures", 0},
        {"last_error", nullptr},
        {"latency", nullptr},
        {"ready", service.ready()}}},
  };
  if (const core::HealthStatus* health = service.health()) {
    json& h = out["health"];
    h["status"] = core::to_string(health->counters.state);
    h["since"] = wall_now - (now - health->last_change);
    h["failures"] = health->counters.failures;
    h["last_error"] = health->last.ok || health->last.error.empty() ? json(nullptr)
                                                                     : json(health->last.error);
    h["latency"] = health->last_latency;
    // The last round's result as the verdict saw it; its output is capped so
    // a status of many services stays small.
    constexpr size_t k_output_shown = 512;
    h["last"] = {{"ok", health->last.ok},
                 {"status", health->last.status},
                 {"timed_out", health->last.timed_out},
                 {"output", health->last.output.substr(0, k_output_shown)}};
  }
  if (!service.history().empty()) {
    out["last_exit"] = exit_json(service.history().back(), now);
  }
  return out;
}

} // namespace luvsup::control
