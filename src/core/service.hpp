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
//   stopped       not wanted up, nothing running
//
// Every transition is one row of the (state, event) -> action table in
// service.cpp; a pair that is not in the table is ignored. Events are queued
// by the Supervisor and applied one at a time, never recursively.
#pragma once

#include "core/exit_record.hpp"
#include "core/platform.hpp"
#include "core/service_spec.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace luvsup::core {

enum class ProcState { stopped, starting, running, stopping, backoff, crash_looping, completed, fatal };
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

  const ServiceSpec& spec() const { return *m_spec; }
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
  const std::deque<ExitRecord>& history() const { return m_history; }
  const std::string& fatal_reason() const { return m_fatal_reason; }
  // Whether stopping it for the shutdown needed SIGKILL (or had to give up).
  bool killed_at_shutdown() const { return m_killed_at_shutdown; }
  // Whether its main process is running (not yet reaped).
  bool main_running() const { return has_process() && !m_main_exited; }

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
  void start_from_rest();

  void set_state(ProcState state);
  void stop_process(StopIntent intent, ExitCause cause);
  void send_stop_signal();
  void watch_leftovers();
  void poll_leftovers();
  void record_exit(ExitCause cause, const ExitStatus& status, std::string error);
  void decide_after_exit();

  std::shared_ptr<const ServiceSpec> m_spec;
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
  std::deque<ExitRecord> m_history;
  std::string m_fatal_reason;

  std::unique_ptr<Timer> m_timer;        // backoff delay or stop timeout
  std::unique_ptr<Timer> m_poll_timer;   // re-checks for leftover processes while stopping
  double m_poll_interval = 0;
};

}  // namespace luvsup::core
