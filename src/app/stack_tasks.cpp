#include "app/stack_tasks.hpp"

#include "core/service_hooks.hpp"
#include "runbook/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <utility>

namespace luvsup::app {

namespace {

// Whether a scheduled oneshot's previous run is still going: asked to start
// (blocked on its dependencies) or running, stopping or backing off.
bool busy(const core::Service& service) {
  switch (service.state()) {
    case core::ProcState::stopped:
    case core::ProcState::completed:
    case core::ProcState::fatal:
      return false;
    default:
      return true;
  }
}

// A run with what it needs alive: its scheduler, and the Lua state (held by
// the function) that outlives the scheduler. A reload may replace both in
// the task's spec while this run goes on.
struct OwnedRun final : runbook::RunHandle {
  ~OwnedRun() override { run.reset(); }
  std::shared_ptr<const runbook::TaskFunction> function;
  std::shared_ptr<runbook::Scheduler> scheduler;
  std::unique_ptr<runbook::RunHandle> run;
};

runbook::TaskActions actions(core::Supervisor& supervisor) {
  runbook::TaskActions a;
  a.run = [](const runbook::TaskSpec& task,
             std::function<void(runbook::RunOutcome)> done) -> std::unique_ptr<runbook::RunHandle> {
    if (!task.function || !task.scheduler) {
      spdlog::error("{}: cannot run: its Lua state has no scheduler", task.label());
      return nullptr;
    }
    runbook::RunInfo info;
    info.label = task.label();
    info.timeout = task.timeout;
    auto owned = std::make_unique<OwnedRun>();
    owned->function = task.function;
    owned->scheduler = task.scheduler;
    owned->run = task.scheduler->start(
        std::move(info), [function = task.function](lua_State* co) { return function->push(co); },
        [](lua_State*, int) {}, std::move(done));
    return owned;
  };
  a.service_busy = [&supervisor](const std::string& name) {
    const core::Service* service = supervisor.find(name);
    return service != nullptr && busy(*service);
  };
  a.start_service = [&supervisor](const std::string& name) -> std::string {
    core::Service* service = supervisor.find(name);
    if (service == nullptr) {
      return "no such service";
    }
    if (supervisor.shutting_down()) {
      return "the stack is stopping";
    }
    if (supervisor.held_down(*service)) {
      return "it was stopped with `luvsup stop`; `luvsup start " + name + "` lets the schedule start it again";
    }
    supervisor.start(*service);
    return "";
  };
  return a;
}

}  // namespace

StackTasks::StackTasks(uv_loop_t* loop, core::Platform& platform, core::Supervisor& supervisor)
    : m_supervisor(supervisor),
      m_runner(platform, actions(supervisor)),
      m_watches(loop, [this](const std::string& service, const std::string& path, std::function<void()> finished) {
        on_change(service, path, std::move(finished));
      }) {}

StackTasks::~StackTasks() = default;

void StackTasks::apply(lua::StackDefinition& definition) {
  for (runbook::TaskSpec& task : definition.tasks) {
    if (task.kind == runbook::TaskSpec::Kind::function) {
      task.scheduler = definition.scheduler;
    }
  }
  m_runner.apply(std::move(definition.tasks));
  definition.tasks.clear();
  m_watches.watch(definition.watches);
  // A hook in flight for a file no longer watched is cancelled.
  std::erase_if(m_changes, [&](const auto& entry) {
    for (const auto& w : definition.watches) {
      if (w.service == entry.first.first &&
          std::find(w.paths.begin(), w.paths.end(), entry.first.second) != w.paths.end()) {
        return false;
      }
    }
    return true;
  });
}

void StackTasks::on_change(const std::string& service, const std::string& path, std::function<void()> finished) {
  const core::Service* found = m_supervisor.find(service);
  if (found == nullptr) {
    finished();
    return;
  }
  std::shared_ptr<core::ServiceHooks> hooks = found->spec().hooks;
  if (!hooks || !hooks->has(core::HookKind::on_change)) {
    spdlog::info("{}: it has no on_change hook; nothing to do for {}", service, path);
    finished();
    return;
  }
  if (found->state() != core::ProcState::running) {
    spdlog::info("{}: not running ({}); on_change does not run for {}", service, core::to_string(found->state()),
                 path);
    finished();
    return;
  }
  core::HookContext context;
  context.path = path;
  // The previous run for this file has finished (the watches wait for it):
  // replacing it releases its handle outside its own callback.
  ChangeHook& slot = m_changes[{service, path}];
  slot.run.reset();
  slot.hooks = hooks;
  slot.run = hooks->run(core::HookKind::on_change, service, context,
                        [finished = std::move(finished)](const core::HookOutcome&) { finished(); });
}

void StackTasks::stop() {
  m_runner.stop_all();
  m_watches.watch({});
  m_changes.clear();
}

}  // namespace luvsup::app
