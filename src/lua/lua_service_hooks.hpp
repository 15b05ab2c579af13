// core::ServiceHooks backed by the Lua functions of a service definition
// (before_start, on_start, ..., with the stack's defaults already merged by
// the DSL), run as coroutines on the runbook::Scheduler of their Lua state.
//
// Each hook gets the service's handle (runbook::push_service_handle) and its
// arguments: on_exit an exit table { code, signal, uptime, restarts, cause,
// description }, on_unhealthy the failing result { ok, status, latency,
// error, output, timed_out, failures }, on_change the path. before_start may
// return false and a reason to refuse the start; on_unhealthy returns
// "restart", "wait" or nil. before_start, on_exit, after_stop and
// on_unhealthy are cancelled after the service's hook_timeout.
#pragma once

#include "core/service_hooks.hpp"
#include "lua/lua_ref.hpp"
#include "lua/lua_state.hpp"
#include "runbook/scheduler.hpp"

#include <array>
#include <memory>

namespace luvsup::lua {

class LuaServiceHooks final : public core::ServiceHooks,
                              public std::enable_shared_from_this<LuaServiceHooks> {
public:
  using Functions = std::array<LuaRef, core::k_hook_kinds>;  // by HookKind; invalid = none
  LuaServiceHooks(std::shared_ptr<LuaState> state, std::shared_ptr<runbook::Scheduler> scheduler,
                  Functions functions, double hook_timeout);

  bool has(core::HookKind kind) const override;
  std::unique_ptr<core::RunningHook> run(core::HookKind kind, const std::string& name,
                                         const core::HookContext& context,
                                         std::function<void(core::HookOutcome)> done) override;

private:
  std::shared_ptr<LuaState> m_state;  // declared first: outlives the scheduler and references
  std::shared_ptr<runbook::Scheduler> m_scheduler;
  Functions m_functions;
  double m_hook_timeout;
};

}  // namespace luvsup::lua
