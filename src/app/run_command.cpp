#include "app/commands.hpp"
#include "app/detach.hpp"
#include "app/instance_lock.hpp"
#include "app/own_log.hpp"
#include "app/reloader.hpp"
#include "app/startup_watch.hpp"
#include "app/stack_tasks.hpp"
#include "app/stack_validation.hpp"
#include "runbook/state_store.hpp"
#include "app/stack_watcher.hpp"
#include "app/uv_platform.hpp"
#include "control/control_plane.hpp"
#include "control/socket_path.hpp"
#include "core/supervisor.hpp"
#include "events/event_bus.hpp"
#include "log/console_view.hpp"
#include "process/fd_limit.hpp"
#include "process/leftovers.hpp"
#include "process/reaper.hpp"
#include "process/signal_resets.hpp"
#include "process/stack_hash.hpp"
#include "uv/signal.hpp"
#include "uv/timer.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace luvsup::app {

namespace {

// How long leftovers of a killed luvsup get to exit before SIGKILL.
constexpr double k_leftover_timeout = 10.0;

double longest_stall_timeout(const core::Supervisor& supervisor) {
  double longest = 1.0;
  for (const auto& service : supervisor.services()) {
    longest = std::max(longest, service->spec().log.stall_timeout);
  }
  return longest;
}

bool has_controlling_terminal() {
  const int fd = ::open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  ::close(fd);
  return true;
}

// Routes what a service says about its readiness: READY=1, a ready fd or log
// line, and a missed watchdog go to the supervisor; STATUS= and STOPPING=1 to
// luvsup's log.
void route_readiness(core::Supervisor& supervisor, const std::string& name,
                     const readiness::Signal& signal) {
  core::Service* service = supervisor.find(name);
  if (service == nullptr) {
    return;
  }
  switch (signal.kind) {
    case readiness::SignalKind::ready:
      supervisor.report_ready(*service, signal.source);
      break;
    case readiness::SignalKind::status:
      spdlog::info("{}: status: {}", name, signal.text);
      break;
    case readiness::SignalKind::stopping:
      spdlog::info("{}: says it is stopping (STOPPING=1)", name);
      break;
    case readiness::SignalKind::watchdog_missed:
      spdlog::warn("{}: watchdog missed ({})", name, signal.text);
      supervisor.report_health_failure(*service, "watchdog missed: " + signal.text);
      break;
  }
}

// Everything that lives while the loop runs. Destroyed before the final loop
// pass that runs the handles' close callbacks.
struct Session {
  Session(uv_loop_t* loop, const OrderedStack& stack, const cli::Options& options,
          std::vector<core::ResourceLimit> base_limits, runbook::Environment& environment)
      : bus(),
        console(!options.quiet && isatty(STDOUT_FILENO)
                    ? std::make_unique<log::ConsoleView>(loop, STDOUT_FILENO, options.color)
                    : nullptr),
        platform(loop, process::stack_hash(stack.definition.file), stack.definition.state_dir,
                 std::move(base_limits), console.get()),
        supervisor(platform),
        tasks(loop, platform, supervisor),
        reloader(supervisor, platform, options.stack_file, stack.definition, environment),
        reaper(loop, [this](pid_t pid, core::ExitStatus status) {
          if (!platform.claim_exit(pid, status)) {
            supervisor.on_process_exit(pid, status);
          }
        }) {
    platform.set_event_bus(&bus);
  }

  events::EventBus bus;  // first: service logs publish into it until the platform is gone
  std::unique_ptr<log::ConsoleView> console;
  UvPlatform platform;
  core::Supervisor supervisor;
  StackTasks tasks;  // scheduled tasks and file watches
  Reloader reloader;
  std::unique_ptr<StackWatcher> watcher;  // null with --no-watch
  process::Reaper reaper;
  std::vector<std::unique_ptr<uv::Signal>> signals;
  std::unique_ptr<control::ControlPlane> control;
};

std::string control_socket(const cli::Options& options, const lua::StackDefinition& definition) {
  const std::string configured =
      options.socket.empty() ? definition.control_socket
                             : std::filesystem::absolute(options.socket).lexically_normal().string();
  return control::socket_path_for(definition.file, definition.state_dir, configured);
}

}  // namespace

int run_command(const cli::Options& options) {
  // What hooks reach; filled in once the session exists, before any hook
  // runs. state.set values live as long as luvsup, across reloads.
  runbook::StateStore state_store;
  runbook::Environment environment;
  environment.state = &state_store;
  auto checked = load_and_order(options.stack_file, &environment);
  if (auto* error = std::get_if<std::string>(&checked)) {
    fmt::print(stderr, "{}\n", *error);
    return k_exit_failure;
  }
  auto& stack = std::get<OrderedStack>(checked);
  auto& definition = stack.definition;

  DetachReport report;
  if (options.detach) {
    auto detached = detach(definition.log_dir + "/luvsup.log");
    if (auto* code = std::get_if<int>(&detached)) {
      return *code;  // the original process, after the background one reported
    }
    report = std::move(std::get<Detached>(detached).report);
  }

  auto lock = InstanceLock::acquire(definition.state_dir);
  if (auto* error = std::get_if<std::string>(&lock)) {
    fmt::print(stderr, "luvsup: {}: {}\n", options.stack_file, *error);
    report.failed(fmt::format("{}: {}", options.stack_file, *error));
    return k_exit_failure;
  }

  // Losing stderr or a log pipe must never kill the supervisor.
  ::signal(SIGPIPE, SIG_IGN);
  start_own_log(options.log_level, options.color);
  auto base_limits = process::raise_open_file_limit();
  spdlog::info("stack '{}' from {}: {} service{}", definition.name, definition.file,
               definition.services.size(), definition.services.size() == 1 ? "" : "s");
  process::stop_leftovers(definition.state_dir, process::stack_hash(definition.file),
                          k_leftover_timeout);

  // Each stuck log write (a hung disk) holds a threadpool thread until its
  // stall timeout; libuv's default of 4 would let four such services starve
  // every other log. Read by libuv when the pool first starts.
  setenv("UV_THREADPOOL_SIZE", "16", 0);
  uv_loop_t loop;
  uv_loop_init(&loop);
  bool clean = false;
  bool logs_stuck = false;
  bool control_failed = false;
  // A log write stuck on a hung disk may hold output for its stall timeout
  // and no longer: neither the shutdown flush nor the final close pass (which
  // writes what the closing pipes still held) waits for it beyond that. Set
  // when the shutdown begins, from the definitions running then.
  double flush_bound = 1.0;
  auto flush_deadline = std::make_unique<uv::Timer>(&loop);
  auto arm_flush_deadline = [&] {
    flush_deadline->start(flush_bound, [&] {
      spdlog::error("service logs still not written after {}s (a stuck disk?); exiting anyway",
                    flush_bound);
      logs_stuck = true;
      uv_stop(&loop);
    });
  };
  auto exit_if_logs_stuck = [&] {
    if (logs_stuck) {
      // A pool thread is blocked in a write that may never return; closing the
      // loop or running exit handlers would wait for it (libuv joins its pool
      // at exit). Every service is already stopped.
      stop_own_log();
      std::_Exit(k_exit_failure);
    }
  };
  {
    Session session(&loop, stack, options, std::move(base_limits), environment);
    auto& supervisor = session.supervisor;
    environment.platform = &session.platform;
    environment.loop = &loop;
    environment.services = &supervisor.control();
    environment.commands = &session.platform.commands();
    environment.http = &session.platform.http();
    session.platform.on_readiness([&](const std::string& name, const readiness::Signal& signal) {
      route_readiness(supervisor, name, signal);
    });
    for (auto& spec : definition.services) {
      supervisor.add(std::make_shared<const core::ServiceSpec>(std::move(spec)));
    }
    session.tasks.apply(definition);
    // The specs hold the Lua state now; a reload's old state must go once
    // nothing running needs it, so nothing else keeps it. The emptied vector
    // gives back its storage too: it lives as long as this function.
    std::vector<core::ServiceSpec>().swap(definition.services);
    definition.lua.reset();
    definition.scheduler.reset();  // its timers belong to the session's loop
    auto& reloader = session.reloader;
    reloader.on_applied([&](lua::StackDefinition& applied) { session.tasks.apply(applied); });
    if (options.watch) {
      session.watcher = std::make_unique<StackWatcher>(&loop, [&](bool last_try) {
        const ReloadOutcome outcome = reloader.reload_if_changed("file change", last_try);
        session.watcher->watch(reloader.files());
        return outcome.status == ReloadStatus::failed;
      });
      session.watcher->watch(reloader.files());
    }
    auto begin_shutdown = [&] {
      flush_bound = longest_stall_timeout(supervisor);
      session.watcher.reset();
      session.tasks.stop();
      supervisor.shutdown([&](bool was_clean) {
        clean = was_clean;
        arm_flush_deadline();
        session.platform.flush_logs([&] {
          flush_deadline->stop();
          uv_stop(&loop);
        });
      });
    };
    int interrupts = 0;
    session.signals.push_back(std::make_unique<uv::Signal>(&loop, SIGINT, [&] {
      if (++interrupts >= 2 && supervisor.shutting_down()) {
        supervisor.kill_all();
      } else {
        begin_shutdown();
      }
    }));
    session.signals.push_back(std::make_unique<uv::Signal>(&loop, SIGTERM, begin_shutdown));
    const bool with_terminal = has_controlling_terminal();
    session.signals.push_back(std::make_unique<uv::Signal>(&loop, SIGHUP, [&, with_terminal] {
      if (with_terminal) {
        spdlog::info("SIGHUP: the terminal closed");
        begin_shutdown();
      } else {
        spdlog::info("SIGHUP: reloading {}", options.stack_file);
        reloader.reload("SIGHUP");
      }
    }));

    auto plane = control::ControlPlane::open(&loop, definition, control_socket(options, definition),
                                             supervisor, session.platform, session.bus,
                                             control::StackActions{
                                                 begin_shutdown,
                                                 [&] {
                                                   const ReloadOutcome outcome =
                                                       reloader.reload("luvsup reload");
                                                   return control::ActionResult{
                                                       outcome.status == ReloadStatus::applied,
                                                       outcome.message};
                                                 },
                                                 [&](const std::string& file) {
                                                   const ReloadOutcome outcome = reloader.plan(file);
                                                   return control::ActionResult{
                                                       outcome.status == ReloadStatus::applied,
                                                       outcome.message};
                                                 },
                                                 [&]() -> const core::LastReload& {
                                                   return reloader.last();
                                                 }});
    if (auto* error = std::get_if<std::string>(&plane)) {
      spdlog::error("control socket: {}", *error);
      report.failed("control socket: " + *error);
      control_failed = true;
    } else {
      session.control = std::move(std::get<std::unique_ptr<control::ControlPlane>>(plane));
      StartupWatch startup(session.bus, supervisor, [&](const std::string& summary) {
        report.up(fmt::format("luvsup: stack '{}' is up in the background (pid {}): {}; "
                              "control socket {}, log {}/luvsup.log",
                              definition.name, ::getpid(), summary,
                              session.control->socket_path(), definition.log_dir));
      });
      {
        // One write for the burst of "started" lines, not one per service,
        // and one reading of the signal dispositions for all the children.
        auto burst = hold_own_log();
        process::SignalSnapshot signals;
        supervisor.start_all();
      }
      // Loading the stack freed much (the DSL's garbage, the definitions'
      // copies) that sits between live blocks: give those pages back.
      ::malloc_trim(0);
      if (report.pending()) {
        startup.begin();
      }
      uv_run(&loop, UV_RUN_DEFAULT);
      exit_if_logs_stuck();
    }
  }
  // Run the close callbacks of every handle the session owned, and the last
  // log writes; the deadline does not keep the loop alive by itself.
  arm_flush_deadline();
  flush_deadline->unref();
  uv_run(&loop, UV_RUN_DEFAULT);
  exit_if_logs_stuck();
  flush_deadline.reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (control_failed) {
    stop_own_log();
    return k_exit_failure;
  }
  spdlog::info(clean ? "stack stopped" : "stack stopped; some services had to be killed");
  stop_own_log();
  return clean ? k_exit_ok : k_exit_failure;
}

}  // namespace luvsup::app
