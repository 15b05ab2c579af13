// One supervised service: its runtime state and its lifecycle state machine.
//
// States (the process axis; readiness and health are a separate axis):
//
//   stopped --start--> starting --deps met--> running --exit--> stopping (leftovers)
//      ^                  |                     |                  |
//      |                stop                  stop             all gone
//      |                  v                     v                  v
//      +<--------------------------------- stopping     backoff | crash-looping
//                                                        | completed | fatal
//
//   starting      wanted up, waiting for its dependencies to be met
//   running       the main process runs
//   stopping      the stop signal was sent (or the main process exited) and
//                 luvsup waits until no process of the service is left
//   backoff       exited; restarting after the delay the restart policy chose
//   crash-looping backoff after 3 or more quick exits in a row
//   completed     exited with a success code and the policy does not restart it
//   fatal         the policy gave up; not restarted until asked
//   blocked       wanted up, but a dependency is fatal or crash-looping, or
//                 was not ready within start_timeout; starts as soon as its
//                 dependencies are met
//   preparing     its dependencies are met and its before_start hook runs;
//                 the spawn waits for it (shown as "starting")
//   finishing     stopped, and its after_stop hook runs (shown as "stopping");
//                 stopped once it returns
//   stopped       not wanted up, nothing running
//
// Hooks (core/service_hooks.hpp; the mechanics are in HookSlots): before_start
// holds the spawn (preparing); a refusal, failure or timeout is a failed
// start (cause start_refused) decided by the restart policy. on_exit runs on
// every exit of the main process, and the restart after a backoff waits for
// it. after_stop holds the end of a stop (finishing); at shutdown it is cut
// at the stop timeout. on_unhealthy decides what unhealthy does while the
// service keeps running, one run at a time. on_start, on_ready,
// on_crash_loop (once per crash loop) and on_fatal hold nothing up. A reload
// that restarts the service (process_changed) or removes it (retire) cancels
// its hooks in flight.
//
// The readiness and health axis: a running service is ready once a readiness
// signal arrives (a passing health probe, or a ready log line, READY=1 or a
// newline on its ready fd, reported through Supervisor::report_ready), or at
// once when it has neither a health check nor a `ready` key. Its health
// monitor (health::Monitor) probes it while it runs; unhealthy past its
// retries fires on_unhealthy, whose default restarts it through its restart
// policy (the exit's cause is killed_by_health).
//
// Every transition is one row of the (state, event) -> action table in
// service.cpp; a pair that is not in the table is ignored. Events are queued
// by the Supervisor and applied one at a time, never recursively.
#pragma once

#include "core/exit_record.hpp"
#include "core/health_status.hpp"
#include "core/hook_slots.hpp"
#include "core/lazy_timer.hpp"
#include "core/platform.hpp"
#include "core/service_spec.hpp"
#include "health/health_monitor.hpp"

#include <algorithm>
#include <vector>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace luvsup::core {

enum class ProcState {
  stopped, starting, running, stopping, backoff, crash_looping, completed, fatal, blocked,
  preparing, finishing,
};
// The state as users see it: preparing is "starting", finishing "stopping".
std::string_view to_string(ProcState state);

enum class ServiceEvent {
  start,          // wanted up (autostart, user, a dependent)
  stop,           // wanted down (user)
  shutdown,       // wanted down because luvsup is stopping
  restart,        // stop if running, then start
  deps_met,       // its dependencies are satisfied: spawn now
  exited,         // the main process exited (see Service::exit_status)
  stop_timeout,   // the stop timeout (or the grace after SIGKILL) elapsed with processes left
  leftovers_gone, // no process of the service remains
  backoff_done,   // the restart delay elapsed
  kill,           // SIGKILL now and stop (a second interrupt)
  process_changed,     // a reload changed its process definition: restart it now
  definition_changed,  // a reload changed a live key: leave fatal and backoff now
  ready,          // a readiness signal (see Service::set_ready_source)
  unhealthy,      // unhealthy past its retries, or a missed watchdog
  start_timeout,  // start_timeout elapsed while it waited for its dependencies
  deps_failed,    // a dependency is fatal, crash-looping or overdue (see Service::set_block_reason)
  before_start_done,  // its before_start hook finished
  on_exit_done,       // an on_exit hook finished
  after_stop_done,    // its after_stop hook finished
  unhealthy_decided,  // its on_unhealthy hook finished
  hook_restart,       // a hook asked for a restart (runbook::ServiceControl::restart)
};
std::string_view to_string(ServiceEvent event);

// What the stop in progress is for.
enum class StopIntent { none, stop, restart, after_exit };

class Service {
public:
  // `post` queues an event for this service on the supervisor's queue.
  Service(std::shared_ptr<const ServiceSpec> spec, Platform& platform,
          std::function<void(Service&, ServiceEvent)> post);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Applies one event through the transition table.
  void handle(ServiceEvent event);

  // Called after every state change with the state it left (the event stream).
  using StateObserver = std::function<void(const Service&, ProcState from)>;
  void set_state_observer(StateObserver observer) { m_state_observer = std::move(observer); }

  // Records how the main process ended; the `exited` event reads it.
  void set_exit_status(const ExitStatus& status) { m_exit_status = status; }

  // Swaps in the definition a reload loaded for this service, keeping every
  // runtime state (pid, start time, restarts, history). The new spec is used
  // from the next decision on. Work started for the old spec (a probe, a
  // hook) keeps the old spec, and with it the old Lua state, alive through
  // its own shared_ptr while it runs; it compares spec_generation() with the
  // generation it started under before acting on its result, and drops the
  // result when they differ (a retired state never decides anything).
  void replace_spec(std::shared_ptr<const ServiceSpec> spec);
  // Counts replace_spec calls.
  uint64_t spec_generation() const { return m_spec_generation; }

  const ServiceSpec& spec() const { return *m_spec; }
  // The spec as work started now holds it (see replace_spec).
  const std::shared_ptr<const ServiceSpec>& spec_ptr() const { return m_spec; }
  const std::string& name() const { return m_spec->name; }
  ProcState state() const { return m_state; }
  pid_t pid() const { return m_pid; }
  int restarts() const { return m_restarts; }
  // Monotonic time (Platform::now) of the last spawn.
  double started_at() const { return m_started_at; }
  bool wanted_up() const { return m_wanted_up; }
  bool has_process() const { return m_state == ProcState::running || m_state == ProcState::stopping; }
  // Whether the service counts as "started" for dependents.
  bool started() const;
  const std::vector<ExitRecord>& history() const { return m_history; }
  const std::string& fatal_reason() const { return m_fatal_reason; }
  // Whether stopping it for the shutdown needed SIGKILL (or had to give up).
  bool killed_at_shutdown() const { return m_killed_at_shutdown; }
  // Whether its main process is running (not yet reaped).
  bool main_running() const { return has_process() && !m_main_exited; }

  // Whether it runs and has given a readiness signal since its spawn.
  bool ready() const { return m_ready && m_state == ProcState::running; }
  // Its health state: none without a health check.
  core::HealthState health_state() const;
  // Its health status, or null without a health check.
  const HealthStatus* health() const { return m_monitor ? &m_health : nullptr; }
  // What the next `ready` event reports as its source ("probe", "log", ...).
  void set_ready_source(std::string source) { m_ready_source = std::move(source); }
  // Why the next `unhealthy` event fires, when it does not come from the probe.
  void set_unhealthy_reason(std::string reason) { m_unhealthy_reason = std::move(reason); }
  // Why the next `deps_failed` event blocks it.
  void set_block_reason(std::string reason) { m_block_reason = std::move(reason); }
  const std::string& block_reason() const { return m_block_reason; }
  // Whether start_timeout elapsed while it was waiting for its dependencies.
  bool start_overdue() const { return m_start_overdue; }
  // Its process group (its first process), -1 when it has none.
  pid_t pgid() const { return m_pgid; }
  // Whether one of its hooks of `kind` is in flight.
  bool hook_running(HookKind kind) const { return m_hooks.running(kind); }
  // It left the stack (a reload removed it): its hooks in flight are
  // cancelled and none runs any more.
  void retire() { m_hooks.retire(); }

  static constexpr size_t k_history_capacity = 64;

private:
  using Action = void (Service::*)();
  struct Transition {
    ProcState state;
    ServiceEvent event;
    Action action;
  };
  static const Transition k_transitions[];

  void begin_start();
  void spawn();
  void begin_stop();
  void begin_shutdown();
  void begin_restart();
  void begin_reload_restart();
  void cancel_start();
  void cancel_backoff();
  void restart_now();
  void on_main_exit();
  void on_exit_while_stopping();
  void escalate_to_kill();
  void kill_now();
  void send_kill();
  void abandon_survivors();
  pid_t live_main_pid() const { return m_main_exited ? -1 : m_pid; }
  void shutdown_while_stopping();
  void finish_stop();
  void want_down();
  void want_restart_after_stop();
  void mark_ready();
  void on_unhealthy();
  void note_start_overdue();
  void block();
  void prepare();
  void after_before_start();
  void cancel_prepare();
  void restart_after_backoff();
  void restart_if_due();
  void apply_unhealthy_decision();
  void restart_for_health();
  void restart_for_hook();
  void finish_after_stop();
  void cut_after_stop();
  void kill_after_stop();
  void cancel_after_stop();
  void bound_after_stop();
  void want_start_after_stop();

  // Starts hook `kind` for the current spec; false when it has none.
  bool run_hook(HookKind kind, const HookContext& context = {});
  void hook_finished(HookKind kind, std::optional<HookOutcome> outcome);

  void set_state(ProcState state);
  // (Re)creates the health monitor for the current spec (none without a check).
  void make_monitor();
  void stop_process(StopIntent intent, ExitCause cause);
  void send_stop_signal();
  void watch_leftovers();
  void poll_leftovers();
  void record_exit(ExitCause cause, const ExitStatus& status, std::string error);
  void decide_after_exit();

  std::shared_ptr<const ServiceSpec> m_spec;
  uint64_t m_spec_generation = 0;
  Platform& m_platform;
  std::function<void(Service&, ServiceEvent)> m_post;
  StateObserver m_state_observer;

  ProcState m_state = ProcState::stopped;
  StopIntent m_intent = StopIntent::none;
  ExitCause m_stop_cause = ExitCause::stopped_by_user;
  bool m_wanted_up = false;
  pid_t m_pid = -1;
  double m_started_at = 0;
  int m_restarts = 0;
  pid_t m_pgid = -1;                 // the service's process group: its first pid
  bool m_kill_sent = false;          // SIGKILL sent in the stop in progress
  bool m_killed_at_shutdown = false;
  bool m_main_exited = false;
  ExitStatus m_exit_status;
  // A vector, not a deque: an empty deque allocates a 512-byte block and
  // most services never exit; dropping the oldest of 64 records is cheap.
  std::vector<ExitRecord> m_history;
  std::string m_fatal_reason;

  LazyTimer m_timer;        // backoff delay or stop timeout
  LazyTimer m_poll_timer;   // re-checks for leftover processes while stopping
  double m_poll_interval = 0;

  LazyTimer m_start_timer;  // start_timeout while waiting for dependencies
  bool m_start_overdue = false;
  std::string m_block_reason;
  bool m_ready = false;
  std::string m_ready_source;
  std::string m_unhealthy_reason;
  HealthStatus m_health;                       // kept here: it belongs to the service, not the definition
  std::unique_ptr<health::Monitor> m_monitor;  // null without a health check

  uint64_t m_run = 0;                 // counts spawns: what a late hook outcome was for
  bool m_restart_due = false;         // the backoff elapsed while on_exit ran
  bool m_in_crash_loop = false;       // on_crash_loop fired for the current loop
  bool m_after_stop_bounded = false;  // the stop timeout bounds after_stop (shutdown)
  std::optional<HookOutcome> m_before_start_outcome;  // nullopt: stale (see HookSlots)
  std::optional<HookOutcome> m_unhealthy_outcome;
  uint64_t m_unhealthy_run = 0;       // the run on_unhealthy was started for
  HealthStatus m_unhealthy_status;    // what on_unhealthy was told
  HookSlots m_hooks;                  // last: its runs go first
};

}  // namespace luvsup::core
