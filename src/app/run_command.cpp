#include "app/commands.hpp"
#include "app/instance_lock.hpp"
#include "app/own_log.hpp"
#include "app/stack_validation.hpp"
#include "app/uv_platform.hpp"
#include "core/supervisor.hpp"
#include "log/console_view.hpp"
#include "process/fd_limit.hpp"
#include "process/leftovers.hpp"
#include "process/reaper.hpp"
#include "process/stack_hash.hpp"
#include "uv/signal.hpp"
#include "uv/timer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <memory>

namespace luvsup::app {

namespace {

// How long leftovers of a killed luvsup get to exit before SIGKILL.
constexpr double k_leftover_timeout = 10.0;

double longest_stall_timeout(const lua::StackDefinition& definition) {
  double longest = 1.0;
  for (const auto& spec : definition.services) {
    longest = std::max(longest, spec.log.stall_timeout);
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

// What a service says about its readiness, in luvsup's log.
void log_readiness(const std::string& service, const readiness::Signal& signal) {
  switch (signal.kind) {
    case readiness::SignalKind::ready:
      spdlog::info("{}: ready ({})", service, signal.source);
      break;
    case readiness::SignalKind::status:
      spdlog::info("{}: status: {}", service, signal.text);
      break;
    case readiness::SignalKind::stopping:
      spdlog::info("{}: says it is stopping (STOPPING=1)", service);
      break;
    case readiness::SignalKind::watchdog_missed:
      spdlog::warn("{}: watchdog missed ({})", service, signal.text);
      break;
  }
}

// Everything that lives while the loop runs. Destroyed before the final loop
// pass that runs the handles' close callbacks.
struct Session {
  Session(uv_loop_t* loop, const OrderedStack& stack, const cli::Options& options,
          std::vector<core::ResourceLimit> base_limits)
      : console(!options.quiet && isatty(STDOUT_FILENO)
                    ? std::make_unique<log::ConsoleView>(loop, STDOUT_FILENO, options.color)
                    : nullptr),
        platform(loop, process::stack_hash(stack.definition.file), stack.definition.state_dir,
                 std::move(base_limits), console.get()),
        supervisor(platform),
        reaper(loop, [this](pid_t pid, core::ExitStatus status) {
          supervisor.on_process_exit(pid, status);
        }) {}

  std::unique_ptr<log::ConsoleView> console;
  UvPlatform platform;
  core::Supervisor supervisor;
  process::Reaper reaper;
  std::vector<std::unique_ptr<uv::Signal>> signals;
};

}  // namespace

int run_command(const cli::Options& options) {
  auto checked = load_and_order(options.stack_file);
  if (auto* error = std::get_if<std::string>(&checked)) {
    fmt::print(stderr, "{}\n", *error);
    return k_exit_failure;
  }
  const auto& stack = std::get<OrderedStack>(checked);
  const auto& definition = stack.definition;

  auto lock = InstanceLock::acquire(definition.state_dir);
  if (auto* error = std::get_if<std::string>(&lock)) {
    fmt::print(stderr, "luvsup: {}: {}\n", options.stack_file, *error);
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
  // A log write stuck on a hung disk may hold output for its stall timeout
  // and no longer: neither the shutdown flush nor the final close pass (which
  // writes what the closing pipes still held) waits for it beyond that.
  const double flush_bound = longest_stall_timeout(definition);
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
    Session session(&loop, stack, options, std::move(base_limits));
    auto& supervisor = session.supervisor;
    session.platform.on_readiness(log_readiness);
    for (const auto& spec : definition.services) {
      supervisor.add(std::make_shared<const core::ServiceSpec>(spec));
    }
    auto begin_shutdown = [&] {
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
        spdlog::info("SIGHUP ignored: luvsup has no controlling terminal");
      }
    }));

    supervisor.start_all();
    uv_run(&loop, UV_RUN_DEFAULT);
    exit_if_logs_stuck();
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
  spdlog::info(clean ? "stack stopped" : "stack stopped; some services had to be killed");
  stop_own_log();
  return clean ? k_exit_ok : k_exit_failure;
}

}  // namespace luvsup::app
