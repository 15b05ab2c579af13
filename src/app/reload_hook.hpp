// The stack's on_reload(plan) hook, run after each applied reload on the
// new stack's scheduler with the plan as a table:
//   { trigger = "file change", added = { "web" }, removed = { "old" },
//     changed = { { name = "api", keys = { "cmd" }, restarts = true } } }
// It holds nothing up. A newer reload cancels one still running.
#pragma once

#include "core/reload_plan.hpp"
#include "lua/stack_loader.hpp"

#include <memory>
#include <string_view>

namespace luvsup::app {

class ReloadHook {
public:
  // Starts `definition`'s on_reload, if it has one (taking what it needs
  // from the definition: its state, scheduler and function).
  void start(lua::StackDefinition& definition, const core::ReloadPlan& plan, std::string_view trigger);

private:
  // Declared in the order they must outlive each other: the run goes first.
  std::shared_ptr<lua::LuaState> m_state;
  std::shared_ptr<runbook::Scheduler> m_scheduler;
  lua::LuaRef m_function;
  std::unique_ptr<runbook::RunHandle> m_run;
};

}  // namespace luvsup::app
