// core::RestartPolicy backed by a Lua policy (lua/luvsup/backoff.lua).
//
// decide() calls `backoff.decide(policy, svc, exit)` through the protected,
// budgeted path of LuaState. When the policy fails (raises, returns something
// other than a delay or nil, loops or allocates without end) the failure is
// logged with its traceback and core::DefaultBackoff decides instead, with
// policy_failed set: a broken policy never leaves a service unsupervised.
#pragma once

#include "core/restart_policy.hpp"
#include "lua/lua_ref.hpp"
#include "lua/lua_state.hpp"

#include <memory>
#include <string>

namespace luvsup::lua {

class LuaRestartPolicy final : public core::RestartPolicy {
public:
  // `decide` references backoff.decide and `policy` the service's policy
  // value (a backoff policy table or a function), both in `state`.
  LuaRestartPolicy(std::shared_ptr<LuaState> state, LuaRef decide, LuaRef policy,
                   std::string service_name, Budget budget = k_call_budget);

  core::RestartDecision decide(const core::ServiceView& service, const core::ExitRecord& exit) override;

private:
  std::shared_ptr<LuaState> m_state;  // declared first: outlives the references
  LuaRef m_decide;
  LuaRef m_policy;
  std::string m_name;
  Budget m_budget;
};

}  // namespace luvsup::lua
