// The actions of Service's transition table that start hooks or act on
// their outcome (the table itself is in service.cpp).
#include "core/service.hpp"

#include <spdlog/spdlog.h>

#include <utility>

namespace luvsup::core {

namespace {

// The first line of a hook's error: its traceback is in the log already.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Why a before_start outcome refuses the start, or "" when it allows it.
std::string refusal(const HookOutcome& outcome) {
  switch (outcome.status) {
  case HookOutcome::Status::returned:
    if (outcome.allowed) {
      return {};
    }
    if (outcome.reason.empty() || outcome.reason == "refused by before_start") {
      return "refused by before_start";
    }
    return "refused by before_start: " + outcome.reason;
  case HookOutcome::Status::failed:
    return "before_start failed: " + first_line(outcome.error);
  case HookOutcome::Status::timed_out:
    return outcome.error.empty() ? "before_start timed out"
                                 : "before_start timed out: " + first_line(outcome.error);
  }
  return "refused by before_start";
}

}  // namespace

bool Service::run_hook(HookKind kind, const HookContext& context) {
  return m_hooks.start(m_spec, m_spec_generation, kind, context);
}

void Service::hook_finished(HookKind kind, std::optional<HookOutcome> outcome) {
  // Only the hooks that hold a transition or decide something come back as
  // events; the others had nothing waiting for them.
  switch (kind) {
  case HookKind::before_start:
    m_before_start_outcome = std::move(outcome);
    m_post(*this, ServiceEvent::before_start_done);
    return;
  case HookKind::on_exit: m_post(*this, ServiceEvent::on_exit_done); return;
  case HookKind::after_stop: m_post(*this, ServiceEvent::after_stop_done); return;
  case HookKind::on_unhealthy:
    m_unhealthy_outcome = std::move(outcome);
    m_post(*this, ServiceEvent::unhealthy_decided);
    return;
  case HookKind::on_start:
  case HookKind::on_ready:
  case HookKind::on_crash_loop:
  case HookKind::on_fatal:
  case HookKind::on_change: return;
  }
}

void Service::prepare() {
  HookContext context;
  context.restarts = m_restarts;
  if (!run_hook(HookKind::before_start, context)) {
    spawn();
    return;
  }
  spdlog::info("{}: before_start runs; the start waits for it", name());
  set_state(ProcState::preparing);
}

void Service::after_before_start() {
  std::optional<HookOutcome> outcome = std::exchange(m_before_start_outcome, std::nullopt);
  if (!outcome) {
    // It ran for a definition a reload replaced: the new one decides.
    spdlog::info("{}: before_start of the previous definition finished; asking the new one",
                 name());
    prepare();
    return;
  }
  std::string why = refusal(*outcome);
  if (why.empty()) {
    spawn();
    return;
  }
  spdlog::error("{}: {}", name(), why);
  record_exit(ExitCause::start_refused, ExitStatus{}, std::move(why));
  decide_after_exit();
}

void Service::cancel_prepare() {
  m_hooks.cancel(HookKind::before_start);
  m_wanted_up = false;
  spdlog::info("{}: stopped (before_start cancelled)", name());
  set_state(ProcState::stopped);
}

void Service::restart_after_backoff() {
  if (m_hooks.running(HookKind::on_exit)) {
    m_restart_due = true;
    spdlog::info("{}: the restart waits for its on_exit hook", name());
    return;
  }
  restart_now();
}

void Service::restart_if_due() {
  if (m_restart_due && !m_hooks.running(HookKind::on_exit)) {
    restart_now();
  }
}

void Service::restart_for_health() {
  spdlog::warn("{}: restarting: unhealthy ({})", name(), m_unhealthy_status.reason);
  // Like an exit: the restart policy decides the delay, so a service that
  // keeps failing its probe backs off instead of restarting in a hot loop.
  m_intent = StopIntent::after_exit;
  m_stop_cause = ExitCause::killed_by_health;
  send_stop_signal();
}

void Service::on_unhealthy() {
  if (m_hooks.running(HookKind::on_unhealthy)) {
    spdlog::debug("{}: unhealthy again while its on_unhealthy hook runs", name());
    return;
  }
  m_unhealthy_status = m_health;
  if (!m_unhealthy_reason.empty()) {
    m_unhealthy_status.reason = m_unhealthy_reason;
    m_unhealthy_status.last.ok = false;
    m_unhealthy_status.last.error = m_unhealthy_reason;
  }
  HookContext context;
  context.health = &m_unhealthy_status;
  context.restarts = m_restarts;
  if (run_hook(HookKind::on_unhealthy, context)) {
    m_unhealthy_run = m_run;
    spdlog::info("{}: unhealthy ({}); on_unhealthy decides while it keeps running", name(),
                 m_unhealthy_status.reason);
    return;
  }
  restart_for_health();
}

void Service::apply_unhealthy_decision() {
  std::optional<HookOutcome> outcome = std::exchange(m_unhealthy_outcome, std::nullopt);
  if (!outcome || m_unhealthy_run != m_run) {
    spdlog::debug("{}: a stale on_unhealthy outcome is dropped", name());
    return;
  }
  if (outcome->status != HookOutcome::Status::returned) {
    spdlog::warn("{}: on_unhealthy {}, so it is restarted (the default): {}", name(),
                 outcome->status == HookOutcome::Status::failed ? "failed" : "timed out",
                 first_line(outcome->error));
    restart_for_health();
    return;
  }
  switch (outcome->action) {
  case UnhealthyAction::restart: restart_for_health(); return;
  case UnhealthyAction::wait:
    // A fresh round: it fires again only after `retries` more failures.
    m_health.counters.fired_at = m_health.counters.failures;
    spdlog::info("{}: on_unhealthy chose \"wait\": it keeps running", name());
    return;
  case UnhealthyAction::none:
    spdlog::info("{}: on_unhealthy chose nothing: it keeps running", name());
    return;
  }
}

void Service::restart_for_hook() {
  spdlog::info("{}: restarting (asked by a hook)", name());
  // Through the restart policy, like a crash: a runbook cannot hot-loop it.
  m_intent = StopIntent::after_exit;
  m_stop_cause = ExitCause::restarted_by_hook;
  send_stop_signal();
}

void Service::finish_after_stop() {
  if (m_intent == StopIntent::restart && m_wanted_up) {
    m_intent = StopIntent::none;
    spdlog::info("{}: after_stop finished; starting again", name());
    begin_start();
    return;
  }
  m_intent = StopIntent::none;
  spdlog::info("{}: stopped", name());
  set_state(ProcState::stopped);
}

void Service::cut_after_stop() {
  spdlog::warn("{}: after_stop still running {}s into the shutdown; cancelled", name(),
               m_spec->stop.timeout);
  cancel_after_stop();
}

void Service::kill_after_stop() {
  spdlog::warn("{}: after_stop cancelled (killing every service)", name());
  cancel_after_stop();
}

void Service::cancel_after_stop() {
  m_hooks.cancel(HookKind::after_stop);
  m_wanted_up = false;
  m_intent = StopIntent::stop;
  finish_after_stop();
}

void Service::bound_after_stop() {
  m_stop_cause = ExitCause::shutdown;
  m_wanted_up = false;
  m_intent = StopIntent::stop;
  if (!m_after_stop_bounded) {
    m_after_stop_bounded = true;
    m_timer.start(m_spec->stop.timeout, [this] { m_post(*this, ServiceEvent::stop_timeout); });
  }
}

void Service::want_start_after_stop() {
  m_wanted_up = true;
  m_intent = StopIntent::restart;
}

}  // namespace luvsup::core
