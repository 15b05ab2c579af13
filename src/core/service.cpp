#include "core/service.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstring>
#include <utility>

namespace luvsup::core {

std::string_view to_string(ProcState state) {
  switch (state) {
  case ProcState::stopped: return "stopped";
  case ProcState::starting: return "starting";
  case ProcState::running: return "running";
  case ProcState::stopping: return "stopping";
  case ProcState::backoff: return "backoff";
  case ProcState::crash_looping: return "crash-looping";
  case ProcState::completed: return "completed";
  case ProcState::fatal: return "fatal";
  case ProcState::blocked: return "blocked";
  case ProcState::preparing: return "starting";
  case ProcState::finishing: return "stopping";
  }
  return "unknown";
}

std::string_view to_string(ServiceEvent event) {
  switch (event) {
  case ServiceEvent::start: return "start";
  case ServiceEvent::stop: return "stop";
  case ServiceEvent::shutdown: return "shutdown";
  case ServiceEvent::restart: return "restart";
  case ServiceEvent::deps_met: return "deps_met";
  case ServiceEvent::exited: return "exited";
  case ServiceEvent::stop_timeout: return "stop_timeout";
  case ServiceEvent::leftovers_gone: return "leftovers_gone";
  case ServiceEvent::backoff_done: return "backoff_done";
  case ServiceEvent::kill: return "kill";
  case ServiceEvent::process_changed: return "process_changed";
  case ServiceEvent::definition_changed: return "definition_changed";
  case ServiceEvent::ready: return "ready";
  case ServiceEvent::unhealthy: return "unhealthy";
  case ServiceEvent::start_timeout: return "start_timeout";
  case ServiceEvent::deps_failed: return "deps_failed";
  case ServiceEvent::before_start_done: return "before_start_done";
  case ServiceEvent::on_exit_done: return "on_exit_done";
  case ServiceEvent::after_stop_done: return "after_stop_done";
  case ServiceEvent::unhealthy_decided: return "unhealthy_decided";
  case ServiceEvent::hook_restart: return "hook_restart";
  }
  return "unknown";
}

namespace {
using S = ProcState;
using E = ServiceEvent;

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : std::to_string(sig);
}

// How often leftover processes are looked for while stopping: quickly at
// first (most services exit at once), then less often.
constexpr double k_first_poll = 0.01;
constexpr double k_max_poll = 0.2;
// How long processes get to vanish after SIGKILL before luvsup stops waiting.
constexpr double k_kill_grace = 5.0;
}  // namespace

// The whole lifecycle. A (state, event) pair that is not listed is ignored.
const Service::Transition Service::k_transitions[] = {
    {S::stopped, E::start, &Service::begin_start},
    {S::stopped, E::restart, &Service::begin_start},
    {S::completed, E::start, &Service::begin_start},
    {S::completed, E::restart, &Service::begin_start},
    {S::completed, E::stop, &Service::want_down},
    {S::completed, E::shutdown, &Service::want_down},
    {S::fatal, E::start, &Service::begin_start},
    {S::fatal, E::restart, &Service::begin_start},
    {S::fatal, E::stop, &Service::want_down},
    {S::fatal, E::shutdown, &Service::want_down},

    {S::starting, E::deps_met, &Service::prepare},
    {S::starting, E::stop, &Service::cancel_start},
    {S::starting, E::shutdown, &Service::cancel_start},
    {S::starting, E::start_timeout, &Service::note_start_overdue},
    {S::starting, E::deps_failed, &Service::block},

    {S::blocked, E::deps_met, &Service::prepare},
    {S::blocked, E::start, &Service::begin_start},
    {S::blocked, E::restart, &Service::begin_start},
    {S::blocked, E::stop, &Service::cancel_start},
    {S::blocked, E::shutdown, &Service::cancel_start},

    {S::preparing, E::before_start_done, &Service::after_before_start},
    {S::preparing, E::stop, &Service::cancel_prepare},
    {S::preparing, E::shutdown, &Service::cancel_prepare},
    {S::preparing, E::kill, &Service::cancel_prepare},

    {S::running, E::exited, &Service::on_main_exit},
    {S::running, E::stop, &Service::begin_stop},
    {S::running, E::shutdown, &Service::begin_shutdown},
    {S::running, E::restart, &Service::begin_restart},
    {S::running, E::kill, &Service::kill_now},
    {S::running, E::ready, &Service::mark_ready},
    {S::running, E::unhealthy, &Service::on_unhealthy},
    {S::running, E::unhealthy_decided, &Service::apply_unhealthy_decision},
    {S::running, E::hook_restart, &Service::restart_for_hook},
    {S::stopped, E::hook_restart, &Service::begin_start},
    {S::completed, E::hook_restart, &Service::begin_start},

    {S::stopping, E::exited, &Service::on_exit_while_stopping},
    {S::stopping, E::stop_timeout, &Service::escalate_to_kill},
    {S::stopping, E::kill, &Service::kill_now},
    {S::stopping, E::leftovers_gone, &Service::finish_stop},
    {S::stopping, E::stop, &Service::want_down},
    {S::stopping, E::shutdown, &Service::shutdown_while_stopping},
    {S::stopping, E::start, &Service::want_restart_after_stop},
    {S::stopping, E::restart, &Service::want_restart_after_stop},

    {S::backoff, E::backoff_done, &Service::restart_after_backoff},
    {S::backoff, E::on_exit_done, &Service::restart_if_due},
    {S::backoff, E::start, &Service::restart_now},
    {S::backoff, E::restart, &Service::restart_now},
    {S::backoff, E::stop, &Service::cancel_backoff},
    {S::backoff, E::shutdown, &Service::cancel_backoff},
    {S::crash_looping, E::backoff_done, &Service::restart_after_backoff},
    {S::crash_looping, E::on_exit_done, &Service::restart_if_due},
    {S::crash_looping, E::start, &Service::restart_now},
    {S::crash_looping, E::restart, &Service::restart_now},
    {S::crash_looping, E::stop, &Service::cancel_backoff},
    {S::crash_looping, E::shutdown, &Service::cancel_backoff},

    {S::finishing, E::after_stop_done, &Service::finish_after_stop},
    {S::finishing, E::stop_timeout, &Service::cut_after_stop},
    {S::finishing, E::kill, &Service::kill_after_stop},
    {S::finishing, E::shutdown, &Service::bound_after_stop},
    {S::finishing, E::stop, &Service::want_down},
    {S::finishing, E::start, &Service::want_start_after_stop},
    {S::finishing, E::restart, &Service::want_start_after_stop},

    // A reload; the Supervisor posts these only to services wanted up. A
    // process_changed that has a row cancels the service's hooks first.
    {S::preparing, E::process_changed, &Service::begin_start},
    {S::finishing, E::process_changed, &Service::begin_start},
    {S::running, E::process_changed, &Service::begin_reload_restart},
    {S::stopping, E::process_changed, &Service::want_restart_after_stop},
    {S::backoff, E::process_changed, &Service::restart_now},
    {S::crash_looping, E::process_changed, &Service::restart_now},
    {S::fatal, E::process_changed, &Service::begin_start},
    {S::completed, E::process_changed, &Service::begin_start},
    {S::backoff, E::definition_changed, &Service::restart_now},
    {S::crash_looping, E::definition_changed, &Service::restart_now},
    {S::fatal, E::definition_changed, &Service::begin_start},
};

Service::Service(std::shared_ptr<const ServiceSpec> spec, Platform& platform,
                 std::function<void(Service&, ServiceEvent)> post)
    : m_spec(std::move(spec)), m_platform(platform), m_post(std::move(post)),
      m_timer(platform),
      m_poll_timer(platform), m_start_timer(platform),
      m_hooks(platform, [this](HookKind kind, std::optional<HookOutcome> outcome) {
        hook_finished(kind, std::move(outcome));
      }) {
  make_monitor();
}

Service::~Service() = default;

void Service::make_monitor() {
  m_monitor.reset();
  if (m_spec->health) {
    m_monitor = std::make_unique<health::Monitor>(
        m_platform, *m_spec, m_health,
        health::Monitor::Callbacks{[this] {
                                     set_ready_source("probe");
                                     m_post(*this, ServiceEvent::ready);
                                   },
                                   [this] {
                                     m_unhealthy_reason.clear();
                                     m_post(*this, ServiceEvent::unhealthy);
                                   }});
  }
}

void Service::replace_spec(std::shared_ptr<const ServiceSpec> spec) {
  const bool health_changed = spec->health_fingerprint != m_spec->health_fingerprint;
  const bool hooks_changed = spec->hook_fingerprints != m_spec->hook_fingerprints ||
                             spec->on_unhealthy_fingerprint != m_spec->on_unhealthy_fingerprint;
  m_hooks.rebind(m_spec_generation + 1, hooks_changed);
  if (!health_changed && m_monitor && spec->health) {
    // Same probes, same verdicts: a probe in flight finishes, as if nothing
    // happened (a reload elsewhere must not delay or kill it).
    m_monitor->rebind(*spec);
    m_spec = std::move(spec);
    ++m_spec_generation;
    return;
  }
  const bool was_probing = m_monitor && m_monitor->active();
  m_monitor.reset();  // it refers to the old spec; its round in flight is cancelled
  m_spec = std::move(spec);
  ++m_spec_generation;
  if (health_changed) {
    // "The primary never passed" is judged per definition: a fixed probe
    // gets a fresh chance, and so does its fallback's grace.
    m_health.counters.primary_passed = false;
    m_health.counters.excused_since = -1;
  }
  make_monitor();
  if (m_state != ProcState::running) {
    return;
  }
  if (m_monitor) {
    if (was_probing) {
      m_monitor->resume();
    } else {
      m_monitor->start();
    }
    return;
  }
  const ReadySpec& ready = m_spec->ready;
  if (ready.log_pattern.empty() && !ready.notify && ready.fd < 0) {
    set_ready_source("definition");  // nothing left to wait for
    mark_ready();
  }
}

void Service::handle(ServiceEvent event) {
  for (const auto& row : k_transitions) {
    if (row.state == m_state && row.event == event) {
      if (event == ServiceEvent::process_changed) {
        m_hooks.cancel_all();  // the reload restarts it: its hooks in flight go
      }
      (this->*row.action)();
      return;
    }
  }
  spdlog::trace("{}: {} ignored in state {}", name(), to_string(event), to_string(m_state));
}

bool Service::started() const {
  return m_state == ProcState::running || m_state == ProcState::completed;
}

HealthState Service::health_state() const {
  return m_monitor ? m_health.counters.state : HealthState::none;
}

void Service::set_state(ProcState state) {
  if (state == m_state) {
    return;
  }
  spdlog::debug("{}: {} -> {}{}", name(), to_string(m_state), to_string(state),
                state == ProcState::preparing   ? " (before_start)"
                : state == ProcState::finishing ? " (after_stop)"
                                                : "");
  if (m_state == ProcState::running) {
    // Readiness and probing belong to the process that ran.
    m_ready = false;
    if (m_monitor) {
      m_monitor->stop();
    }
  }
  if (m_state == ProcState::starting || m_state == ProcState::blocked) {
    m_start_timer.stop();
  }
  if (m_state == ProcState::finishing) {
    m_timer.stop();  // the shutdown's bound on after_stop
  }
  const ProcState from = std::exchange(m_state, state);
  if (m_state_observer) {
    m_state_observer(*this, from);
  }
}

void Service::begin_start() {
  m_wanted_up = true;
  m_intent = StopIntent::none;
  m_fatal_reason.clear();
  m_start_overdue = false;
  m_start_timer.stop();
  if (!m_spec->depends_on.empty()) {
    m_start_timer.start(m_spec->start_timeout, [this] { m_post(*this, ServiceEvent::start_timeout); });
  }
  set_state(ProcState::starting);
}

void Service::note_start_overdue() { m_start_overdue = true; }

void Service::block() {
  spdlog::error("{}: {}; it starts once its dependencies are ready (blocked)", name(), m_block_reason);
  set_state(ProcState::blocked);
}

void Service::mark_ready() {
  if (m_ready) {
    return;
  }
  m_ready = true;
  spdlog::info("{}: ready ({})", name(), m_ready_source.empty() ? "signal" : m_ready_source);
  run_hook(HookKind::on_ready);
}

void Service::spawn() {
  const SpawnOutcome outcome = m_platform.spawn(*m_spec);
  if (outcome.pid <= 0) {
    spdlog::error("{}: spawn failed: {}", name(), outcome.error);
    record_exit(ExitCause::spawn_failed, ExitStatus{}, outcome.error);
    decide_after_exit();
    return;
  }
  m_pid = outcome.pid;
  m_pgid = outcome.pid;
  m_started_at = m_platform.now();
  m_main_exited = false;
  ++m_run;
  spdlog::info("{}: started (pid {})", name(), m_pid);
  set_state(ProcState::running);
  const ReadySpec& ready = m_spec->ready;
  const bool signals_readiness = !ready.log_pattern.empty() || ready.notify || ready.fd >= 0;
  m_ready = !m_monitor && !signals_readiness;  // nothing to wait for: ready once started
  if (m_monitor) {
    m_monitor->start();
  }
  run_hook(HookKind::on_start);
  if (m_ready) {
    run_hook(HookKind::on_ready);
  }
}

void Service::cancel_start() {
  m_wanted_up = false;
  set_state(ProcState::stopped);
}

void Service::cancel_backoff() {
  m_timer.stop();
  m_restart_due = false;
  m_in_crash_loop = false;
  m_wanted_up = false;
  spdlog::info("{}: stopped (restart cancelled)", name());
  set_state(ProcState::stopped);
}

void Service::restart_now() {
  m_timer.stop();
  m_restart_due = false;
  ++m_restarts;
  begin_start();
}

void Service::want_down() {
  m_wanted_up = false;
  if (m_state == ProcState::stopping || m_state == ProcState::finishing) {
    m_intent = StopIntent::stop;
    return;
  }
  set_state(ProcState::stopped);
}

void Service::shutdown_while_stopping() {
  m_stop_cause = ExitCause::shutdown;
  want_down();
}

void Service::want_restart_after_stop() {
  m_wanted_up = true;
  m_intent = StopIntent::restart;
}

void Service::begin_stop() { stop_process(StopIntent::stop, ExitCause::stopped_by_user); }

void Service::begin_shutdown() { stop_process(StopIntent::stop, ExitCause::shutdown); }

void Service::begin_restart() { stop_process(StopIntent::restart, ExitCause::stopped_by_user); }

void Service::begin_reload_restart() {
  stop_process(StopIntent::restart, ExitCause::restarted_by_reload);
}

void Service::stop_process(StopIntent intent, ExitCause cause) {
  m_wanted_up = intent == StopIntent::restart;
  m_intent = intent;
  m_stop_cause = cause;
  send_stop_signal();
}

void Service::send_stop_signal() {
  const StopSpec& stop = m_spec->stop;
  spdlog::info("{}: stopping ({}, timeout {}s)", name(), signal_name(stop.signal), stop.timeout);
  m_kill_sent = false;
  m_platform.signal_service(*m_spec, m_pgid, live_main_pid(), stop.signal);
  m_timer.start(stop.timeout, [this] { m_post(*this, ServiceEvent::stop_timeout); });
  set_state(ProcState::stopping);
  watch_leftovers();
}

void Service::on_main_exit() {
  m_main_exited = true;
  const bool success = m_exit_status.signal == 0 &&
                       std::find(m_spec->success_codes.begin(), m_spec->success_codes.end(),
                                 m_exit_status.code) != m_spec->success_codes.end();
  record_exit(success ? ExitCause::completed : ExitCause::crashed, m_exit_status, {});
  const ExitRecord& exit = m_history.back();
  spdlog::log(success ? spdlog::level::info : spdlog::level::warn, "{}: {} after {:.1f}s (pid {})",
              name(), describe(exit), exit.uptime, m_pid);
  run_hook(HookKind::on_exit, HookContext{&exit, m_restarts, nullptr, {}});
  m_intent = StopIntent::after_exit;
  if (m_platform.service_alive(*m_spec, m_pgid, -1)) {
    // Whatever the main process left behind goes too, so the next start never
    // collides with a dying leftover that still holds a port.
    spdlog::info("{}: stopping processes left behind by pid {}", name(), m_pid);
    send_stop_signal();
    return;
  }
  m_platform.service_gone(*m_spec);
  m_pid = -1;
  m_pgid = -1;
  decide_after_exit();
}

void Service::on_exit_while_stopping() {
  m_main_exited = true;
  record_exit(m_stop_cause, m_exit_status, {});
  run_hook(HookKind::on_exit, HookContext{&m_history.back(), m_restarts, nullptr, {}});
  watch_leftovers();
}

void Service::escalate_to_kill() {
  if (m_kill_sent) {
    abandon_survivors();
    return;
  }
  spdlog::warn("{}: still running {}s after {}; sending SIGKILL", name(), m_spec->stop.timeout,
               signal_name(m_spec->stop.signal));
  send_kill();
}

void Service::send_kill() {
  m_kill_sent = true;
  if (m_stop_cause == ExitCause::shutdown) {
    m_killed_at_shutdown = true;
  }
  m_platform.signal_service(*m_spec, m_pgid, live_main_pid(), SIGKILL);
  m_timer.start(k_kill_grace, [this] { m_post(*this, ServiceEvent::stop_timeout); });
}

void Service::abandon_survivors() {
  // A process in uninterruptible sleep, or one luvsup may not signal (a
  // setuid child), must not hold the stack hostage: systemd gives up too.
  spdlog::error("{}: processes still alive {}s after SIGKILL; no longer waiting for them", name(),
                k_kill_grace);
  m_main_exited = true;
  finish_stop();
}

void Service::kill_now() {
  if (m_state == ProcState::running) {
    begin_shutdown();
  }
  m_stop_cause = ExitCause::shutdown;
  m_wanted_up = false;
  m_intent = StopIntent::stop;
  spdlog::warn("{}: sending SIGKILL", name());
  send_kill();
}

void Service::watch_leftovers() {
  // The main process's exit arrives as an event; after it, poll for the rest
  // (descendants that left the process group are not luvsup's children).
  m_poll_interval = k_first_poll;
  poll_leftovers();
}

void Service::poll_leftovers() {
  if (m_state != ProcState::stopping) {
    return;
  }
  if (m_main_exited && !m_platform.service_alive(*m_spec, m_pgid, -1)) {
    m_poll_timer.stop();
    m_post(*this, ServiceEvent::leftovers_gone);
    return;
  }
  if (m_kill_sent) {
    // Catch processes forked between the last scan and the SIGKILL.
    m_platform.signal_service(*m_spec, m_pgid, live_main_pid(), SIGKILL);
  }
  m_poll_timer.start(m_poll_interval, [this] { poll_leftovers(); });
  m_poll_interval = std::min(m_poll_interval * 2, k_max_poll);
}

void Service::finish_stop() {
  m_timer.stop();
  m_poll_timer.stop();
  m_platform.service_gone(*m_spec);
  m_pid = -1;
  m_pgid = -1;
  m_kill_sent = false;
  switch (m_intent) {
  case StopIntent::restart:
    spdlog::info("{}: stopped; starting again", name());
    ++m_restarts;
    begin_start();
    return;
  case StopIntent::after_exit:
    decide_after_exit();
    return;
  case StopIntent::stop:
  case StopIntent::none:
    break;
  }
  m_intent = StopIntent::none;
  if (run_hook(HookKind::after_stop)) {
    spdlog::info("{}: stopped; its after_stop hook runs", name());
    m_after_stop_bounded = false;
    set_state(ProcState::finishing);
    if (m_stop_cause == ExitCause::shutdown) {
      bound_after_stop();
    }
    return;
  }
  spdlog::info("{}: stopped", name());
  set_state(ProcState::stopped);
}

void Service::record_exit(ExitCause cause, const ExitStatus& status, std::string error) {
  ExitRecord record;
  record.cause = cause;
  record.status = status;
  record.success = cause == ExitCause::completed;
  record.time = m_platform.now();
  record.wall_time = m_platform.wall_now();
  record.uptime = cause == ExitCause::spawn_failed || cause == ExitCause::start_refused
                      ? 0.0
                      : record.time - m_started_at;
  record.error = std::move(error);
  m_history.push_back(std::move(record));
  if (m_history.size() > k_history_capacity) {
    m_history.erase(m_history.begin());
  }
}

void Service::decide_after_exit() {
  m_intent = StopIntent::none;
  if (!m_wanted_up) {
    spdlog::info("{}: stopped", name());
    set_state(ProcState::stopped);
    return;
  }
  const ExitRecord& exit = m_history.back();
  const ServiceView view{name(), m_spec->oneshot, m_restarts, m_history};
  RestartDecision decision = m_spec->restart ? m_spec->restart->decide(view, exit)
                                             : DefaultBackoff{}.decide(view, exit);
  const bool entering_crash_loop = decision.delay && decision.crash_looping && !m_in_crash_loop;
  m_in_crash_loop = decision.delay && decision.crash_looping;
  if (decision.delay) {
    const double delay = *decision.delay;
    spdlog::info("{}: restarting in {:.1f}s{}", name(), delay,
                 decision.crash_looping ? " (crash-looping)" : "");
    m_timer.start(delay, [this] { m_post(*this, ServiceEvent::backoff_done); });
    set_state(decision.crash_looping ? ProcState::crash_looping : ProcState::backoff);
    if (entering_crash_loop) {
      run_hook(HookKind::on_crash_loop);
    }
    return;
  }
  if (exit.success) {
    spdlog::info("{}: completed", name());
    set_state(ProcState::completed);
    return;
  }
  m_fatal_reason = decision.reason.empty() ? "the restart policy gave up" : decision.reason;
  spdlog::error("{}: gave up: {} (fatal)", name(), m_fatal_reason);
  set_state(ProcState::fatal);
  run_hook(HookKind::on_fatal);
}

}  // namespace luvsup::core
