// The set of services of one stack and the order in which they move.
//
// Events for services are queued and applied one at a time (never
// recursively, as in dinit): a libuv callback posts an event and the queue is
// drained before control returns to the loop. After the queue drains, the
// supervisor re-evaluates the stack: services waiting to start whose
// dependencies are met are spawned, dependencies of wanted services are pulled
// in, and during shutdown a service is stopped once nothing that depends on it
// is still up (reverse dependency order).
#pragma once

#include "core/platform.hpp"
#include "core/reload_plan.hpp"
#include "core/service.hpp"
#include "core/supervisor_control.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::core {

class Supervisor {
public:
  explicit Supervisor(Platform& platform);
  ~Supervisor();

  // Adds the stack's services, in declaration order (names are unique).
  void add(std::shared_ptr<const ServiceSpec> spec);
  // Starts every service whose autostart is set (and what they depend on).
  void start_all();
  // Stops every service in reverse dependency order; `done(clean)` runs once
  // nothing is left, clean = no service had to be SIGKILLed.
  void shutdown(std::function<void(bool clean)> done);
  // Second interrupt: SIGKILL everything now, then finish the shutdown.
  void kill_all();

  void start(Service& service);
  void stop(Service& service);
  void restart(Service& service);

  // Every service's state changes go to `observer` (the event stream).
  void set_state_observer(Service::StateObserver observer);
  // A service held down was stopped explicitly (luvsup stop): start_all and
  // dependents do not start it; only an explicit start (which clears the
  // hold through hold_down(name, false)) does.
  void hold_down(const std::string& name, bool held);
  bool held_down(const Service& service) const { return m_held_down.contains(service.name()); }

  // The reaper reports every child that exited.
  void on_process_exit(pid_t pid, const ExitStatus& status);

  // Carries out a reload (supervisor_reload.cpp). `next` holds the new
  // stack's specs in declaration order and `plan` is plan_reload(specs(),
  // next). Added services start, removed ones stop in reverse dependency order
  // and are dropped once stopped, changed ones restart or take the new spec
  // live; every kept service swaps in its new spec, so the old Lua state goes
  // once the last removed service is gone. Returns the log line that says what
  // it did ("reload: +web -old ~api (cmd changed: restarted)").
  std::string apply_reload(const ReloadPlan& plan,
                           std::vector<std::shared_ptr<const ServiceSpec>> next);
  // What apply_reload(plan, ...) would do, said as it would say it, with
  // nothing changed: "plan: +web ~api (cmd changed: would restart)".
  std::string preview_reload(const ReloadPlan& plan) const;
  // The definitions of the running stack in declaration order, without the
  // services a reload removed that are still stopping.
  std::vector<const ServiceSpec*> specs() const;
  // A readiness signal for `service` from `source` ("probe", "log", "notify",
  // "fd"): the first one since its spawn makes it ready, which is what
  // depends_on = { x = "healthy" } waits for. Ignored unless it is running.
  void report_ready(Service& service, std::string_view source);
  // A health failure found outside the probe (a missed WATCHDOG=1): fires
  // on_unhealthy at once with `reason`. Ignored unless it is running.
  void report_health_failure(Service& service, std::string reason);

  // "completed" waits for a one-shot to exit successfully, "healthy" for the
  // first readiness signal, "started" for the process to run.
  bool condition_met(const Service& dependency, const std::string& condition) const;

  // What hooks do to services (svc handles): restarts through the restart
  // policy, stops, starts, signals, condition watches.
  runbook::ServiceControl& control() { return *m_control; }

  Service* find(std::string_view name) const;
  const std::vector<std::unique_ptr<Service>>& services() const { return m_services; }
  bool shutting_down() const { return m_shutting_down; }
  // Stopped, completed or fatal: nothing runs and nothing is pending.
  bool at_rest(const Service& service) const;
  // Whether a reload removed it and it is on its way out.
  bool retiring(const Service& service) const;

private:
  friend class SupervisorControl;  // posts events, like the control socket's commands
  void post(Service& service, ServiceEvent event);
  // Every service's state changes come here: the observer, then the watches.
  void observe(const Service& service, ProcState from);
  std::unique_ptr<Service> make_service(std::shared_ptr<const ServiceSpec> spec);
  void drain();
  void evaluate();
  // Why `service`, waiting for its dependencies, cannot start now: a
  // dependency is fatal or crash-looping (the circuit breaker: it does not
  // start against it), or start_timeout elapsed; empty when it may wait on.
  std::string blocked_reason(const Service& service) const;
  bool has_active_dependents(const Service& service) const;
  // Whether the user stopped it, so that a reload must not start it again.
  bool explicitly_stopped(const Service& service) const;
  // What a reload's change does to a service, for applying and for a preview.
  enum class ChangeEffect { applied, restarted, started_again, kept_pid };
  ChangeEffect effect_of(const Service& service, const ServiceChange& change) const;
  static std::string describe_effect(ChangeEffect effect, const Service& service, bool preview);
  std::string apply_change(Service& service, const ServiceChange& change);
  void drop_retired();

  Platform& m_platform;
  std::vector<std::unique_ptr<Service>> m_services;
  std::deque<std::pair<Service*, ServiceEvent>> m_queue;
  bool m_draining = false;
  bool m_shutting_down = false;
  bool m_done_called = false;
  std::function<void(bool)> m_on_shutdown_done;
  std::vector<Service*> m_retiring;        // removed by a reload, stopping, dropped when at rest
  std::unique_ptr<Timer> m_drop_timer;      // drops retired services outside their own callbacks
  Service::StateObserver m_state_observer;
  std::set<std::string, std::less<>> m_held_down;
  std::unique_ptr<SupervisorControl> m_control;  // last: it refers to the services
};

}  // namespace luvsup::core
