#include "app/reload_hook.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <string>
#include <vector>

namespace luvsup::app {

namespace {

// stack: ... -> ..., list of strings. May raise.
template <typename Strings> void push_names(lua_State* L, const Strings& names) {
  lua_createtable(L, static_cast<int>(names.size()), 0);
  lua_Integer i = 0;
  for (const auto& name : names) {
    lua_pushlstring(L, name.data(), name.size());
    lua_rawseti(L, -2, ++i);
  }
}

struct PlanCopy {
  std::string trigger;
  std::vector<std::string> added, removed;
  struct Change {
    std::string name;
    std::vector<std::string> keys;
    bool restarts = false;
  };
  std::vector<Change> changed;
};

}  // namespace

void ReloadHook::start(lua::StackDefinition& definition, const core::ReloadPlan& plan, std::string_view trigger) {
  m_run.reset();
  m_function = lua::LuaRef();
  m_scheduler.reset();
  m_state.reset();
  if (!definition.on_reload.valid() || !definition.scheduler) {
    return;
  }
  m_state = definition.lua;
  m_scheduler = definition.scheduler;
  m_function = std::move(definition.on_reload);
  auto copy = std::make_shared<PlanCopy>();
  copy->trigger = trigger;
  copy->added = plan.added;
  copy->removed = plan.removed;
  for (const auto& change : plan.changed) {
    PlanCopy::Change& c = copy->changed.emplace_back();
    c.name = change.name;
    for (auto key : change.restart_keys) {
      c.keys.emplace_back(key);
    }
    for (auto key : change.live_keys) {
      c.keys.emplace_back(key);
    }
    c.restarts = change.restarts();
  }
  runbook::RunInfo info;
  info.label = "on_reload";
  m_run = m_scheduler->start(
      std::move(info),
      [this, copy](lua_State* co) {
        luaL_checkstack(co, 6, "on_reload");
        m_function.push(co);
        lua_createtable(co, 0, 4);  // stack: on_reload, plan
        lua_pushlstring(co, copy->trigger.data(), copy->trigger.size());
        lua_setfield(co, -2, "trigger");
        push_names(co, copy->added);
        lua_setfield(co, -2, "added");
        push_names(co, copy->removed);
        lua_setfield(co, -2, "removed");
        lua_createtable(co, static_cast<int>(copy->changed.size()), 0);
        lua_Integer i = 0;
        for (const auto& c : copy->changed) {
          lua_createtable(co, 0, 3);
          lua_pushlstring(co, c.name.data(), c.name.size());
          lua_setfield(co, -2, "name");
          push_names(co, c.keys);
          lua_setfield(co, -2, "keys");
          lua_pushboolean(co, c.restarts);
          lua_setfield(co, -2, "restarts");
          lua_rawseti(co, -2, ++i);
        }
        lua_setfield(co, -2, "changed");
        return 1;
      },
      nullptr, [](runbook::RunOutcome) {});
}

}  // namespace luvsup::app
