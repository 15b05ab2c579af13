#include "control/status_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace luvsup::control {

namespace {

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

void write_exit(JsonWriter& out, const core::ExitRecord& exit, double now) {
  out.begin_object();
  out.field("ago", now - exit.time);
  out.field("cause", cause_name(exit.cause));
  out.key("code");
  if (exit.status.signal == 0 && exit.cause != core::ExitCause::spawn_failed &&
      exit.cause != core::ExitCause::start_refused) {
    out.value(exit.status.code);
  } else {
    out.value(nullptr);
  }
  out.field("core_dumped", exit.status.core_dumped);
  out.field("description", exit_description(exit));
  out.key("signal");
  if (exit.status.signal == 0) {
    out.value(nullptr);
  } else if (const char* abbrev = sigabbrev_np(exit.status.signal)) {
    out.value(std::string("SIG") + abbrev);
  } else {
    out.value(exit.status.signal);
  }
  out.field("time", exit.wall_time);
  out.field("uptime", exit.uptime);
  out.end_object();
}

// A string, or null when it is empty.
void string_or_null(JsonWriter& out, std::string_view name, const std::string& text) {
  out.key(name);
  if (text.empty()) {
    out.value(nullptr);
  } else {
    out.value(text);
  }
}

void write_health(JsonWriter& out, const core::Service& service, double now, double wall_now) {
  const core::HealthStatus* health = service.health();
  out.begin_object();
  if (health == nullptr) {
    out.field("failures", 0);
    out.field("last_error", nullptr);
    out.field("latency", nullptr);
    out.field("ready", service.ready());
    out.field("since", nullptr);
    out.field("status", nullptr);
    out.end_object();
    return;
  }
  out.field("failures", health->counters.failures);
  // The last round's result as the verdict saw it; its output is capped so
  // a status of many services stays small.
  constexpr size_t k_output_shown = 512;
  out.key("last");
  out.begin_object();
  out.field("ok", health->last.ok);
  out.field("output", std::string_view(health->last.output).substr(0, k_output_shown));
  out.field("status", health->last.status);
  out.field("timed_out", health->last.timed_out);
  out.end_object();
  string_or_null(out, "last_error", health->last.ok ? std::string() : health->last.error);
  out.field("latency", health->last_latency);
  out.field("ready", service.ready());
  out.field("since", wall_now - (now - health->last_change));
  out.field("status", core::to_string(health->counters.state));
  out.end_object();
}

} // namespace

std::string status_reason(const core::Supervisor& supervisor, const core::Service& service) {
  switch (service.state()) {
  case core::ProcState::fatal: return service.fatal_reason();
  case core::ProcState::blocked: return service.block_reason();
  case core::ProcState::preparing: return "its before_start hook runs";
  case core::ProcState::finishing: return "its after_stop hook runs";
  case core::ProcState::starting: {
    std::string waiting;
    for (const auto& dep : service.spec().depends_on) {
      const core::Service* other = supervisor.find(dep.name);
      if (other != nullptr && !supervisor.condition_met(*other, dep.condition)) {
        waiting +=
            (waiting.empty() ? "waiting for " : ", ") + dep.name + " (" + dep.condition + ")";
        if (supervisor.held_down(*other)) {
          waiting += ", stopped by the user";
        }
      }
    }
    return waiting;
  }
  default:
    if (supervisor.held_down(service)) {
      return "stopped by the user (luvsup start clears it)";
    }
    return {};
  }
}

void write_last_reload(JsonWriter& out, const core::LastReload& last) {
  if (!last.attempted) {
    out.value(nullptr);
    return;
  }
  out.begin_object();
  out.field("message", last.message);
  out.field("ok", last.ok);
  out.field("time", last.wall_time);
  out.field("trigger", last.trigger);
  out.end_object();
}

void write_service_status(JsonWriter& out, const core::Supervisor& supervisor,
                          const core::Service& service, double now, double wall_now) {
  const bool has_pid = service.has_process() && service.pid() > 0;
  out.begin_object();
  out.key("health");
  write_health(out, service, now, wall_now);
  out.field("held_down", supervisor.held_down(service));
  out.key("last_exit");
  if (service.history().empty()) {
    out.value(nullptr);
  } else {
    write_exit(out, service.history().back(), now);
  }
  out.field("name", service.name());
  out.key("pid");
  if (service.main_running()) {
    out.value(service.pid());
  } else {
    out.value(nullptr);
  }
  string_or_null(out, "reason", status_reason(supervisor, service));
  out.field("restarts", service.restarts());
  out.field("state", core::to_string(service.state()));
  out.key("uptime");
  if (has_pid) {
    out.value(now - service.started_at());
  } else {
    out.value(nullptr);
  }
  out.field("wanted", service.wanted_up() ? "up" : "down");
  out.end_object();
}

} // namespace luvsup::control
