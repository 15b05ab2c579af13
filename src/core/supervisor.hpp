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
#include "core/service.hpp"

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

  Service* find(std::string_view name) const;
  const std::vector<std::unique_ptr<Service>>& services() const { return m_services; }
  bool shutting_down() const { return m_shutting_down; }

private:
  void post(Service& service, ServiceEvent event);
  void drain();
  void evaluate();
  // "completed" waits for a one-shot to exit successfully; "started" (and,
  // until health checks exist, "healthy") waits for the process to run.
  bool condition_met(const Service& dependency, const std::string& condition) const;
  bool has_active_dependents(const Service& service) const;
  bool at_rest(const Service& service) const;

  Platform& m_platform;
  std::vector<std::unique_ptr<Service>> m_services;
  std::deque<std::pair<Service*, ServiceEvent>> m_queue;
  bool m_draining = false;
  bool m_shutting_down = false;
  bool m_done_called = false;
  std::function<void(bool)> m_on_shutdown_done;
  Service::StateObserver m_state_observer;
  std::set<std::string, std::less<>> m_held_down;
};

}  // namespace luvsup::core
