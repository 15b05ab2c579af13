// The real Platform: libuv timers, forked children, /proc, service logs.
#pragma once

#include "core/platform.hpp"
#include "health/exec_probe.hpp"
#include "http/http_client.hpp"
#include "log/console_view.hpp"
#include "log/service_output.hpp"
#include "process/launch_spec.hpp"
#include "process/pid_records.hpp"
#include "process/service_cgroups.hpp"
#include "readiness/line_matcher.hpp"
#include "readiness/service_channels.hpp"
#include "readiness/signal.hpp"
#include "runbook/command_runner.hpp"
#include "uv/timer.hpp"

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace luvsup::app {

class UvPlatform final : public core::Platform {
public:
  // `stack_hash` prefixes every child's LUVSUP_SERVICE tag; pid records go to
  // `state_dir`; `base_limits` are the limits luvsup had before raising its own.
  UvPlatform(uv_loop_t* loop, std::string stack_hash, std::string state_dir,
             std::vector<core::ResourceLimit> base_limits, log::ConsoleView* console);
  ~UvPlatform() override;

  double now() const override;
  double wall_now() const override;
  std::unique_ptr<core::Timer> make_timer() override;
  core::SpawnOutcome spawn(const core::ServiceSpec& spec) override;
  void signal_service(const core::ServiceSpec& spec, pid_t pgid, pid_t main_pid, int sig) override;
  void send_signal(const core::ServiceSpec& spec, pid_t pgid, pid_t main_pid, int sig) override;
  std::optional<std::string> service_of_process(pid_t pid) const override;
  bool service_alive(const core::ServiceSpec& spec, pid_t pgid, pid_t main_pid) override;
  void service_gone(const core::ServiceSpec& spec) override;
  void service_removed(const core::ServiceSpec& spec) override;
  std::unique_ptr<health::PendingProbe> start_probe(const core::ServiceSpec& spec, const core::ProbeSpec& probe,
                                                    health::ProbeDone done) override;

  // Takes the exit of an exec probe's or a runbook command's process (true),
  // or leaves it to the supervisor (false). The Reaper's callback asks here first.
  bool claim_exit(pid_t pid, const core::ExitStatus& status);

  // The engines runbooks use (runbook::Environment's commands and http): the
  // same as the health probes', so their exits and connections share one path.
  runbook::CommandRunner& commands() { return m_commands; }
  http::HttpClient& http() { return m_http; }

  // Service output is published to `bus` too (null: not published).
  void set_event_bus(events::EventBus* bus);

  // Calls `done` once every service log has written what it holds.
  void flush_logs(std::function<void()> done);

  // Receives what services say about their readiness (READY=1, a newline on
  // the readiness fd, a ready log line, STATUS=, STOPPING=1, a missed
  // watchdog). Delivered from a loop callback of its own, never from inside
  // the channel that received it, so the callback may do anything, including
  // stopping the service. Signals of a run that is over (service_gone, or a
  // new spawn) are dropped undelivered.
  using ReadinessCallback =
      std::function<void(const std::string& service, const readiness::Signal& signal)>;
  void on_readiness(ReadinessCallback callback) { m_on_readiness = std::move(callback); }

private:
  std::string tag_of(const core::ServiceSpec& spec) const;
  log::ServiceOutput& output_of(const core::ServiceSpec& spec);
  std::vector<pid_t> cgroup_members(const core::ServiceSpec& spec) const;
  // Whether every process of the service's current run is in its cgroup
  // (the run started there), so that reading cgroup.procs finds them all.
  bool run_in_cgroup(const core::ServiceSpec& spec) const;
  void save_records();
  // Opens the readiness channels `spec` asks for (replacing a previous
  // run's) and fills in what the child gets from them.
  std::optional<std::string> open_channels(const core::ServiceSpec& spec,
                                           process::ChildContext& ctx);
  void watch_log_lines(const core::ServiceSpec& spec, log::ServiceOutput& output);
  void queue_signal(const std::string& service, readiness::Signal signal);
  void drop_signals(const std::string& service);
  void deliver_signals();

  uv_loop_t* m_loop;
  std::string m_stack_hash;
  process::PidRecords m_records;
  std::vector<core::ResourceLimit> m_base_limits;
  log::ConsoleView* m_console;
  events::EventBus* m_events = nullptr;
  std::map<std::string, std::unique_ptr<log::ServiceOutput>> m_outputs;
  uv::Timer m_save_timer;
  std::string m_state_dir;
  // One set per service whose current run has readiness channels.
  std::map<std::string, std::unique_ptr<readiness::ServiceChannels>> m_channels;
  readiness::LineMatcher m_matcher;  // its Lua state starts with the first ready log pattern
  ReadinessCallback m_on_readiness;
  std::deque<std::pair<std::string, readiness::Signal>> m_pending;
  uv::Timer m_deliver_timer;
  std::optional<process::ServiceCgroups> m_cgroups;  // empty: the environment tag alone
  // The services whose cgroup luvsup made; each stays until the service
  // leaves the stack or luvsup exits.
  std::set<std::string> m_made_cgroups;
  // Those of them a child may be created in: made by this luvsup and never
  // killed through cgroup.kill since. The kernel (6.18 here) compares the
  // target cgroup's kill count with that of the parent's own cgroup for
  // clone3 CLONE_INTO_CGROUP, so every child created in a cgroup that was
  // once killed is SIGKILLed at birth. Such a cgroup is made afresh (cheap
  // once it is empty) before the next start.
  std::set<std::string> m_clean_cgroups;
  // The service cgroups that may exist: those there when luvsup started and
  // every one it has made since. One that is not among them has no directory
  // to remove before it is made: no rmdir on each first start. Nullopt when
  // the directory could not be listed: then every service's is removed first.
  std::optional<std::set<std::string>> m_cgroups_maybe_there;
  // The services whose current run started in its cgroup.
  std::set<std::string> m_runs_in_cgroup;
  health::ExecProbes m_exec_probes;
  http::HttpClient m_http;  // loads libcurl on the first http probe
  runbook::CommandRunner m_commands;
};

}  // namespace luvsup::app
