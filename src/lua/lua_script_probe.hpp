// health::ScriptProbe backed by a Lua function (`health = function() ... end`
// or a function inside health.all/any): each round runs it as a coroutine on
// the state's runbook::Scheduler, so it may wait (exec, http.get, sleep).
// It returns ok[, error]; a raise, or a run past the probe's timeout, is a
// failed probe with the reason.
#pragma once

#include "health/probe.hpp"
#include "lua/lua_ref.hpp"
#include "runbook/scheduler.hpp"

#include <memory>
#include <string>

namespace luvsup::lua {

class LuaScriptProbe final : public health::ScriptProbe,
                             public std::enable_shared_from_this<LuaScriptProbe> {
public:
  LuaScriptProbe(std::shared_ptr<LuaState> state, std::shared_ptr<runbook::Scheduler> scheduler,
                 LuaRef function, std::string service_name);

  std::unique_ptr<health::PendingProbe> start(double timeout, health::ProbeDone done) override;

private:
  std::shared_ptr<LuaState> m_state;  // declared first: outlives the scheduler and the reference
  std::shared_ptr<runbook::Scheduler> m_scheduler;
  LuaRef m_function;
  std::string m_name;
};

}  // namespace luvsup::lua
