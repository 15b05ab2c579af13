// The scheduled tasks and file watches of a running stack, bound to its
// supervisor and its Lua states' schedulers.
//
// run_command makes one after the supervisor, hands it the first load's
// definition and every reload's (Reloader::on_applied), and stops it when the
// shutdown begins. Task functions run through the Scheduler of their Lua
// state (label "task NAME", their timeout); scheduled oneshots start through
// Supervisor::start; a watched file's change runs the service's on_change
// hook (core::ServiceHooks) while the service runs.
#pragma once

#include "app/service_watches.hpp"
#include "core/platform.hpp"
#include "core/service_hooks.hpp"
#include "core/supervisor.hpp"
#include "lua/stack_loader.hpp"
#include "runbook/task_runner.hpp"

#include <uv.h>

#include <map>
#include <memory>
#include <utility>
#include <string>

namespace luvsup::app {

class StackTasks {
public:
  StackTasks(uv_loop_t* loop, core::Platform& platform, core::Supervisor& supervisor);
  ~StackTasks();
  StackTasks(const StackTasks&) = delete;
  StackTasks& operator=(const StackTasks&) = delete;

  // Takes a load's tasks and watches: the first load's and each reload's.
  void apply(lua::StackDefinition& definition);
  // luvsup is stopping: no further run; runs and hooks in flight are cancelled.
  void stop();

private:
  void on_change(const std::string& service, const std::string& path, std::function<void()> finished);

  core::Supervisor& m_supervisor;
  runbook::TaskRunner m_runner;
  ServiceWatches m_watches;
  // The on_change hook run per (service, file), with the hooks object it came
  // from (declared first: it outlives the run).
  struct ChangeHook {
    std::shared_ptr<core::ServiceHooks> hooks;
    std::unique_ptr<core::RunningHook> run;
  };
  std::map<std::pair<std::string, std::string>, ChangeHook> m_changes;
};

}  // namespace luvsup::app
