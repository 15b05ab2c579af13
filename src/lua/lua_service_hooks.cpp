#include "lua/lua_service_hooks.hpp"

#include "lua/probe_result.hpp"
#include "runbook/runtime_api.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <signal.h>
#include <string.h>

#include <optional>

namespace luvsup::lua {

namespace {

// Whether the service's own transition waits for the hook.
bool holds_transition(core::HookKind kind) {
  return kind == core::HookKind::before_start || kind == core::HookKind::on_exit ||
         kind == core::HookKind::after_stop || kind == core::HookKind::on_unhealthy;
}

// What the pusher gives the hook besides its handle, copied out of the
// context (which lives only as long as run()).
struct Arguments {
  core::HookKind kind;
  std::string name;
  std::optional<core::ExitRecord> exit;
  int restarts = 0;
  std::optional<core::HealthStatus> health;
  std::string path;
  std::string description;  // of the exit
};

// stack: ... -> ..., exit. May raise.
void push_exit(lua_State* L, const Arguments& args) {
  const core::ExitRecord& exit = *args.exit;
  lua_createtable(L, 0, 7);
  if (exit.status.code >= 0) {
    lua_pushinteger(L, exit.status.code);
    lua_setfield(L, -2, "code");
  }
  if (exit.status.signal > 0) {
    const char* abbrev = sigabbrev_np(exit.status.signal);
    lua_pushstring(L, abbrev != nullptr ? abbrev : "?");
    lua_setfield(L, -2, "signal");
  }
  lua_pushnumber(L, exit.uptime);
  lua_setfield(L, -2, "uptime");
  lua_pushinteger(L, args.restarts);
  lua_setfield(L, -2, "restarts");
  const std::string_view cause = core::to_string(exit.cause);
  lua_pushlstring(L, cause.data(), cause.size());
  lua_setfield(L, -2, "cause");
  lua_pushboolean(L, exit.success);
  lua_setfield(L, -2, "success");
  lua_pushlstring(L, args.description.data(), args.description.size());
  lua_setfield(L, -2, "description");
}

// stack: ... -> ..., result. May raise.
void push_health(lua_State* L, const core::HealthStatus& health) {
  push_probe_result(L, health.last);
  lua_pushinteger(L, health.counters.failures);
  lua_setfield(L, -2, "failures");
  if (!health.reason.empty()) {
    lua_pushlstring(L, health.reason.data(), health.reason.size());
    lua_setfield(L, -2, "error");
  }
}

class LuaRunningHook final : public core::RunningHook {
public:
  explicit LuaRunningHook(std::unique_ptr<runbook::RunHandle> handle) : m_handle(std::move(handle)) {}

private:
  std::unique_ptr<runbook::RunHandle> m_handle;
};

}  // namespace

LuaServiceHooks::LuaServiceHooks(std::shared_ptr<LuaState> state, std::shared_ptr<runbook::Scheduler> scheduler,
                                 Functions functions, double hook_timeout)
    : m_state(std::move(state)), m_scheduler(std::move(scheduler)), m_functions(std::move(functions)),
      m_hook_timeout(hook_timeout) {}

bool LuaServiceHooks::has(core::HookKind kind) const {
  return m_functions[static_cast<size_t>(kind)].valid();
}

std::unique_ptr<core::RunningHook> LuaServiceHooks::run(core::HookKind kind, const std::string& name,
                                                        const core::HookContext& context,
                                                        std::function<void(core::HookOutcome)> done) {
  auto args = std::make_shared<Arguments>();
  args->kind = kind;
  args->name = name;
  if (context.exit != nullptr) {
    args->exit = *context.exit;
    args->description = core::describe(*context.exit);
  }
  args->restarts = context.restarts;
  if (context.health != nullptr) {
    args->health = *context.health;
  }
  args->path = context.path;

  runbook::RunInfo info;
  info.label = name + ": " + std::string(core::to_string(kind));
  info.service = name;
  info.holds_service = kind == core::HookKind::before_start;
  info.timeout = holds_transition(kind) ? m_hook_timeout : 0;

  auto outcome = std::make_shared<core::HookOutcome>();
  // The run may outlive this definition (a reload swaps it): it keeps it.
  auto push = [self = shared_from_this(), args](lua_State* co) {
    luaL_checkstack(co, 4, "hook arguments");
    self->m_functions[static_cast<size_t>(args->kind)].push(co);  // stack: hook
    runbook::push_service_handle(co, args->name);
    int nargs = 1;
    if (args->kind == core::HookKind::on_exit && args->exit) {
      push_exit(co, *args);
      ++nargs;
    } else if (args->kind == core::HookKind::on_unhealthy && args->health) {
      push_health(co, *args->health);
      ++nargs;
    } else if (args->kind == core::HookKind::on_change) {
      lua_pushlstring(co, args->path.data(), args->path.size());
      ++nargs;
    }
    return nargs;  // stack: hook, svc, [arg]
  };
  auto read = [kind, outcome](lua_State* co, int nresults) {
    if (kind == core::HookKind::before_start && nresults >= 1 && lua_isboolean(co, 1) &&
        lua_toboolean(co, 1) == 0) {
      outcome->allowed = false;
      const char* reason = nresults >= 2 ? lua_tostring(co, 2) : nullptr;
      outcome->reason = reason != nullptr ? reason : "refused by before_start";
    } else if (kind == core::HookKind::on_unhealthy) {
      if (nresults == 0 || lua_isnil(co, 1)) {
        outcome->action = core::UnhealthyAction::none;
        return;
      }
      const char* answer = lua_type(co, 1) == LUA_TSTRING ? lua_tostring(co, 1) : nullptr;
      if (answer != nullptr && strcmp(answer, "restart") == 0) {
        outcome->action = core::UnhealthyAction::restart;
      } else if (answer != nullptr && strcmp(answer, "wait") == 0) {
        outcome->action = core::UnhealthyAction::wait;
      } else {
        luaL_error(co, "on_unhealthy returned %s; expected \"restart\", \"wait\" or nil",
                   answer != nullptr ? lua_pushfstring(co, "\"%s\"", answer) : luaL_typename(co, 1));
      }
    }
  };
  auto finished = [outcome, done = std::move(done)](runbook::RunOutcome run) {
    using S = runbook::RunOutcome::Status;
    outcome->status = run.status == S::returned   ? core::HookOutcome::Status::returned
                      : run.status == S::timed_out ? core::HookOutcome::Status::timed_out
                                                   : core::HookOutcome::Status::failed;
    outcome->error = std::move(run.error);
    if (outcome->status != core::HookOutcome::Status::returned) {
      outcome->action = core::UnhealthyAction::restart;  // a failed runbook falls back to the default
    }
    done(std::move(*outcome));
  };
  return std::make_unique<LuaRunningHook>(
      m_scheduler->start(std::move(info), std::move(push), std::move(read), std::move(finished)));
}

}  // namespace luvsup::lua
