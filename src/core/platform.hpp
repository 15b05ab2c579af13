// The seam between the supervisor's decisions and the operating system.
//
// Every clock read, timer, spawn and signal the state machine needs goes
// through Platform, so unit tests drive the real state machine on a fake clock
// and fake processes while the binary runs it on libuv and real children
// (UvPlatform).
#pragma once

#include "core/service_spec.hpp"
#include "health/probe.hpp"

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace luvsup::core {

class Timer {
public:
  virtual ~Timer() = default;
  // Calls fn once after delay seconds; re-arming replaces the pending call.
  virtual void start(double delay, std::function<void()> fn) = 0;
  virtual void stop() = 0;
};

struct SpawnOutcome {
  pid_t pid = -1;
  std::string error;  // set when the process could not be started
};

class Platform {
public:
  virtual ~Platform() = default;
  virtual double now() const = 0;       // monotonic seconds
  virtual double wall_now() const = 0;  // seconds since the epoch
  virtual std::unique_ptr<Timer> make_timer() = 0;

  // Starts the service's main process in a new session and process group,
  // with its output captured. Returns the pid or why it failed.
  virtual SpawnOutcome spawn(const ServiceSpec& spec) = 0;
  // Sends sig to every process of the service: its process group `pgid`,
  // processes carrying its environment tag, and descendants of `main_pid`
  // (-1 once the main process has been reaped: its pid may be reused).
  virtual void signal_service(const ServiceSpec& spec, pid_t pgid, pid_t main_pid, int sig) = 0;
  // The same for a signal a hook sends (svc:signal("HUP")): not a stop, so
  // what the service's readiness channels expect is left as it is.
  virtual void send_signal(const ServiceSpec& spec, pid_t pgid, pid_t main_pid, int sig) = 0;
  // The service of this stack that process `pid` belongs to by its cgroup or
  // environment tag, if any.
  virtual std::optional<std::string> service_of_process(pid_t pid) const = 0;
  // Whether any live process of the service remains.
  virtual bool service_alive(const ServiceSpec& spec, pid_t pgid, pid_t main_pid) = 0;
  // The service has no process any more (its output may still be draining).
  virtual void service_gone(const ServiceSpec& spec) = 0;
  // The service has left the stack (a reload removed it) and has no process:
  // what the platform keeps for it across restarts can go.
  virtual void service_removed(const ServiceSpec& spec) = 0;
  // Starts one I/O probe (an http, tcp or exec leaf of the service's health
  // check). `done` runs once from a loop callback, never inline; destroying
  // the returned handle cancels the probe and `done` is not called.
  virtual std::unique_ptr<health::PendingProbe> start_probe(const ServiceSpec& spec, const ProbeSpec& probe,
                                                            health::ProbeDone done) = 0;
};

}  // namespace luvsup::core
