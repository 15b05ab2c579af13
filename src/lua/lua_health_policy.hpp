// core::HealthPolicy backed by Lua.
//
// LuaHealthPolicy::judge calls `health.judge(def, counters, primary,
// fallback, now, out)` (lua/luvsup/health.lua) through the protected, budgeted
// path of LuaState. A judge that fails (a raising verdict is caught in Lua;
// this is the judge itself failing, or running out of budget) is logged with
// its traceback and the round counts as failed without counting towards
// retries: a broken health check never restarts a good service.
#pragma once

#include "core/health_spec.hpp"
#include "lua/lua_ref.hpp"
#include "lua/lua_state.hpp"

#include <memory>
#include <string>

namespace luvsup::lua {

class LuaHealthPolicy final : public core::HealthPolicy {
public:
  // `judge` references health.judge and `def` the service's normalised health table.
  LuaHealthPolicy(std::shared_ptr<LuaState> state, LuaRef judge, LuaRef def,
                  std::string service_name, double interval, Budget budget = k_call_budget);

  core::HealthJudgement judge(const core::HealthCounters& counters,
                              const std::vector<health::ProbeResult>& primary,
                              const std::vector<health::ProbeResult>* fallback,
                              double now) override;

private:
  // stack: ... -> ..., counters. The judge reads the counters and keeps no
  // reference to them, so one table per policy is refilled for every round.
  // May raise.
  void push_counters(lua_State* L, const core::HealthCounters& counters);

  std::shared_ptr<LuaState> m_state; // declared first: outlives the references
  LuaRef m_judge;
  LuaRef m_def;
  LuaRef m_counters; // made by the first round, as are the three below
  LuaRef m_primary;  // the primary probe's results (push_results)
  LuaRef m_fallback; // the fallback's
  LuaRef m_out;      // the judge's answer: C++ reads it at once, so it is refilled too
  std::string m_name;
  double m_interval;
  Budget m_budget;
};

} // namespace luvsup::lua
