#include "app/uv_platform.hpp"

#include "health/failed_probe.hpp"
#include "health/tcp_probe.hpp"
#include "process/credentials.hpp"
#include "process/launcher.hpp"
#include "process/process_table.hpp"
#include "uv/timer.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

namespace luvsup::app {

namespace {

// Seconds from a change of the pid records to their write (see save_records).
constexpr double k_records_delay = 0.001;

class UvTimer final : public core::Timer {
public:
  explicit UvTimer(uv_loop_t* loop) : m_timer(loop) {}
  void start(double delay, std::function<void()> fn) override { m_timer.start(delay, std::move(fn)); }
  void stop() override { m_timer.stop(); }

private:
  uv::Timer m_timer;
};

}  // namespace

UvPlatform::UvPlatform(uv_loop_t* loop, std::string stack_hash, std::string state_dir,
                       std::vector<core::ResourceLimit> base_limits, log::ConsoleView* console)
    : m_loop(loop), m_stack_hash(std::move(stack_hash)), m_records(state_dir),
      m_base_limits(std::move(base_limits)), m_console(console), m_save_timer(loop),
      m_state_dir(std::move(state_dir)), m_deliver_timer(loop),
      m_cgroups(process::ServiceCgroups::open(m_stack_hash)), m_exec_probes(loop), m_http(loop), m_commands(loop) {
  if (m_cgroups) {
    // Listed once, after the leftovers of a previous run were stopped and
    // before anything of this run can make one (the instance lock keeps any
    // other luvsup of this stack out).
    m_cgroups_maybe_there = m_cgroups->services();
    spdlog::debug("a cgroup per service under {}", m_cgroups->dir());
  } else {
    spdlog::debug("no writable cgroup2 hierarchy: processes are found by their LUVSUP_SERVICE tag");
  }
}

UvPlatform::~UvPlatform() {
  // Observers first: closing an output drains its pipes through them, and
  // they look up the channels.
  for (auto& [name, output] : m_outputs) {
    output->set_line_observer(nullptr);
  }
  m_channels.clear();  // removes every socket file
  ::rmdir((m_state_dir + "/notify").c_str());  // empty now, if this stack made it
  if (m_cgroups) {
    for (const auto& name : m_made_cgroups) {
      m_cgroups->remove(name);
    }
    ::rmdir(m_cgroups->dir().c_str());  // empty once every service cgroup is gone
  }
}

double UvPlatform::now() const { return static_cast<double>(uv_hrtime()) / 1e9; }

double UvPlatform::wall_now() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::unique_ptr<core::Timer> UvPlatform::make_timer() { return std::make_unique<UvTimer>(m_loop); }

std::string UvPlatform::tag_of(const core::ServiceSpec& spec) const {
  return m_stack_hash + "/" + spec.name;
}

log::ServiceOutput& UvPlatform::output_of(const core::ServiceSpec& spec) {
  auto& slot = m_outputs[spec.name];
  if (!slot) {
    slot = std::make_unique<log::ServiceOutput>(m_loop, spec.name, spec.log, m_console);
    slot->set_event_bus(m_events);
  } else {
    slot->update(spec.log);
  }
  return *slot;
}

std::optional<std::string> UvPlatform::open_channels(const core::ServiceSpec& spec,
                                                     process::ChildContext& ctx) {
  m_channels.erase(spec.name);
  drop_signals(spec.name);
  if (!readiness::ServiceChannels::wanted(spec)) {
    return std::nullopt;
  }
  // A service luvsup runs as another user needs a socket that user can reach.
  std::optional<readiness::ChildUser> user;
  if (::geteuid() == 0 && !spec.user.empty() && (spec.ready.notify || spec.watchdog > 0)) {
    auto creds = process::resolve_credentials(spec.user, spec.group);
    if (auto* error = std::get_if<process::LaunchError>(&creds)) {
      return error->message();
    }
    const auto& c = std::get<process::Credentials>(creds);
    user = readiness::ChildUser{c.uid, c.gid};
  }
  auto opened = readiness::ServiceChannels::open(
      m_loop, spec, m_state_dir, make_timer(),
      [this, name = spec.name](const readiness::Signal& signal) { queue_signal(name, signal); },
      user);
  if (auto* error = std::get_if<std::string>(&opened)) {
    return *error;
  }
  auto& channels = std::get<std::unique_ptr<readiness::ServiceChannels>>(opened);
  ctx.supervisor_env = channels->child_env();
  m_channels[spec.name] = std::move(channels);
  return std::nullopt;
}

void UvPlatform::watch_log_lines(const core::ServiceSpec& spec, log::ServiceOutput& output) {
  if (spec.ready.log_pattern.empty()) {
    return;
  }
  output.set_line_observer([this, name = spec.name,
                            pattern = spec.ready.log_pattern](std::string_view line) {
    auto it = m_channels.find(name);
    if (it == m_channels.end() || it->second->state().ready()) {
      return true;  // ready by another channel: stop looking
    }
    auto found = m_matcher.find(line, pattern);
    if (auto* error = std::get_if<std::string>(&found)) {
      spdlog::warn("{}: the ready log pattern \"{}\" cannot be matched: {}", name, pattern, *error);
      return true;
    }
    if (std::get<bool>(found)) {
      it->second->state().on_ready("log", line);
      return true;
    }
    return false;
  });
}

core::SpawnOutcome UvPlatform::spawn(const core::ServiceSpec& spec) {
  process::ChildContext ctx{tag_of(spec), m_base_limits};
  if (auto error = open_channels(spec, ctx)) {
    return {-1, *error};
  }
  auto prepared = process::prepare_launch(spec, ctx);
  if (auto* error = std::get_if<process::LaunchError>(&prepared)) {
    m_channels.erase(spec.name);
    return {-1, error->message()};
  }
  const bool separate = spec.log.separate_stderr || !spec.log.stderr_file.empty();
  os::UniqueFd join;
  bool create_in_cgroup = false;
  m_runs_in_cgroup.erase(spec.name);
  if (m_cgroups) {
    // A cgroup of a previous luvsup, or one killed since it was made, is made
    // afresh; one a survivor still holds is joined the slow way.
    const bool maybe_there =
        !m_cgroups_maybe_there || m_cgroups_maybe_there->count(spec.name) > 0;
    if (m_clean_cgroups.count(spec.name) == 0 && (!maybe_there || m_cgroups->remove(spec.name))) {
      m_clean_cgroups.insert(spec.name);
    }
    if (m_cgroups_maybe_there) {
      m_cgroups_maybe_there->insert(spec.name);
    }
    join = m_cgroups->join_handle(spec.name);
    if (join) {
      m_made_cgroups.insert(spec.name);
      create_in_cgroup = m_clean_cgroups.count(spec.name) > 0;
    } else {
      spdlog::warn("{}: cannot create its cgroup: {}; relying on its environment tag", spec.name,
                   std::strerror(errno));
    }
  }
  auto channels = m_channels.find(spec.name);
  const process::InheritedFd ready_fd =
      channels != m_channels.end() ? channels->second->child_fd() : process::InheritedFd{};
  auto launched =
      process::launch(std::get<process::LaunchSpec>(prepared), separate, join.get(), ready_fd,
                      create_in_cgroup);
  if (auto* error = std::get_if<process::LaunchError>(&launched)) {
    m_channels.erase(spec.name);
    return {-1, error->message()};
  }
  if (channels != m_channels.end()) {
    channels->second->child_started();
  }
  if (join) {
    m_runs_in_cgroup.insert(spec.name);
  }
  const auto& child = std::get<process::Launched>(launched);
  auto& output = output_of(spec);
  output.set_line_observer(nullptr);  // attach drains the last run's pipes: not this run's lines
  output.attach(child.out_fd, child.err_fd);
  watch_log_lines(spec, output);
  // The start time is read when the records are saved (the child is not
  // reaped before that: its exit is handled in a later loop turn, which
  // erases the record).
  m_records.set({spec.name, child.pid, child.pid, 0});
  save_records();
  return {child.pid, {}};
}

std::vector<pid_t> UvPlatform::cgroup_members(const core::ServiceSpec& spec) const {
  std::vector<pid_t> live;
  if (m_cgroups) {
    for (pid_t pid : m_cgroups->members(spec.name)) {
      auto info = process::read_process(pid);
      if (info && info->state != 'Z') {
        live.push_back(pid);
      }
    }
  }
  return live;
}

bool UvPlatform::run_in_cgroup(const core::ServiceSpec& spec) const {
  return m_runs_in_cgroup.count(spec.name) > 0;
}

void UvPlatform::signal_service(const core::ServiceSpec& spec, pid_t pgid, pid_t main_pid,
                                int sig) {
  // Luvsup signals a service only to stop it: its watchdog is no longer news.
  if (auto it = m_channels.find(spec.name); it != m_channels.end()) {
    it->second->state().service_stopping();
  }
  send_signal(spec, pgid, main_pid, sig);
}

void UvPlatform::send_signal(const core::ServiceSpec& spec, pid_t pgid, pid_t main_pid, int sig) {
  if (pgid > 0) {
    process::signal_group(pgid, sig);
  }
  if (!run_in_cgroup(spec)) {
    process::signal_all(process::service_processes(tag_of(spec), pgid, main_pid), sig);
  }
  if (m_cgroups && sig == SIGKILL) {
    m_clean_cgroups.erase(spec.name);
    m_cgroups->kill(spec.name);  // atomic: nothing forks its way out
  } else {
    process::signal_all(cgroup_members(spec), sig);
  }
}

bool UvPlatform::service_alive(const core::ServiceSpec& spec, pid_t pgid, pid_t main_pid) {
  // Every descendant of a run that started in its cgroup is in it, whatever
  // it did to its session or environment: no need to scan all of /proc.
  if (run_in_cgroup(spec)) {
    return !cgroup_members(spec).empty();
  }
  return !process::service_processes(tag_of(spec), pgid, main_pid).empty() ||
         !cgroup_members(spec).empty();
}

std::optional<std::string> UvPlatform::service_of_process(pid_t pid) const {
  if (m_cgroups) {
    for (const auto& member : process::cgroup_tree_members(m_cgroups->dir())) {
      if (member.pid == pid) {
        return member.service;
      }
    }
  }
  const std::string prefix = m_stack_hash + "/";
  if (auto tag = process::service_tag(pid); tag && tag->rfind(prefix, 0) == 0) {
    return tag->substr(prefix.size());
  }
  return std::nullopt;
}

void UvPlatform::service_gone(const core::ServiceSpec& spec) {
  if (auto output = m_outputs.find(spec.name); output != m_outputs.end()) {
    output->second->set_line_observer(nullptr);
  }
  m_channels.erase(spec.name);
  drop_signals(spec.name);
  m_records.erase(spec.name);
  save_records();
  m_runs_in_cgroup.erase(spec.name);
}

void UvPlatform::service_removed(const core::ServiceSpec& spec) {
  m_clean_cgroups.erase(spec.name);
  if (m_cgroups && m_made_cgroups.erase(spec.name) > 0) {
    m_cgroups->remove(spec.name);
  }
}

std::unique_ptr<health::PendingProbe> UvPlatform::start_probe(const core::ServiceSpec& spec,
                                                              const core::ProbeSpec& probe,
                                                              health::ProbeDone done) {
  switch (probe.kind) {
  case core::ProbeSpec::Kind::tcp:
    return health::start_tcp_probe(m_loop, probe.host, probe.port, probe.timeout, std::move(done));
  case core::ProbeSpec::Kind::exec: {
    // The probe runs as the service would (its cwd, env and user), under a
    // tag of its own so that it never counts as one of the service's processes.
    core::ServiceSpec command = spec;
    command.argv = probe.argv;
    command.stdin_path = "/dev/null";
    auto prepared =
        process::prepare_launch(command, process::ChildContext{tag_of(spec) + "/probe", m_base_limits});
    if (auto* error = std::get_if<process::LaunchError>(&prepared)) {
      return health::start_failed_probe(m_loop, error->message(), std::move(done));
    }
    return m_exec_probes.start(std::get<process::LaunchSpec>(prepared), probe.timeout, std::move(done));
  }
  case core::ProbeSpec::Kind::http:
    return m_http.request(probe.http, std::move(done));
  case core::ProbeSpec::Kind::lua:
    if (probe.script) {
      return probe.script->start(probe.timeout, std::move(done));
    }
    break;
  case core::ProbeSpec::Kind::all:
  case core::ProbeSpec::Kind::any:
    break;
  }
  return health::start_failed_probe(m_loop, "not an I/O probe: the health judge runs it", std::move(done));
}

bool UvPlatform::claim_exit(pid_t pid, const core::ExitStatus& status) {
  return m_exec_probes.claim_exit(pid, status) || m_commands.claim_exit(pid, status);
}

void UvPlatform::save_records() {
  // One write per loop turn, however many services started in it. Until it
  // lands, a killed luvsup's successor still finds leftovers by their tag.
  // A millisecond later rather than at once: a restart with no delay runs
  // from a 0 ms timer started right after the exit, and its new pid then
  // goes into the same write instead of a write of the exit delaying it.
  if (m_save_timer.active()) {
    return;
  }
  m_save_timer.start(k_records_delay, [this] {
    // Without the records, leftovers are found by tag alone; the services
    // themselves are unaffected: warn and carry on.
    m_records.complete_start_times(process::process_start_time);
    if (auto error = m_records.save()) {
      spdlog::warn("cannot save pid records: {}", *error);
    }
  });
}

void UvPlatform::set_event_bus(events::EventBus* bus) {
  m_events = bus;
  for (auto& [name, output] : m_outputs) {
    output->set_event_bus(bus);
  }
}

void UvPlatform::queue_signal(const std::string& service, readiness::Signal signal) {
  m_pending.emplace_back(service, std::move(signal));
  if (!m_deliver_timer.active()) {
    m_deliver_timer.start(0, [this] { deliver_signals(); });
  }
}

void UvPlatform::drop_signals(const std::string& service) {
  std::erase_if(m_pending, [&](const auto& entry) { return entry.first == service; });
}

void UvPlatform::deliver_signals() {
  // One at a time from the front: a callback may queue more, or drop some.
  while (!m_pending.empty()) {
    auto [service, signal] = std::move(m_pending.front());
    m_pending.pop_front();
    if (m_on_readiness) {
      m_on_readiness(service, signal);
    }
  }
}

void UvPlatform::flush_logs(std::function<void()> done) {
  auto remaining = std::make_shared<size_t>(m_outputs.size() + 1);
  auto one_done = [remaining, done = std::move(done)] {
    if (--*remaining == 0) {
      done();
    }
  };
  for (auto& [name, output] : m_outputs) {
    output->flush(one_done);
  }
  one_done();
}

}  // namespace luvsup::app
