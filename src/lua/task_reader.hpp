// Reads the scheduled work and the file watches of a loaded stack: the DSL's
// `tasks` list and each service's `schedule` and `watch` (lua/luvsup/tasks.lua).
//
// Called by the stack loader in two steps, like its other Lua references:
// read_tasks inside the loader's protected run (where making a reference may
// raise), adopt_tasks afterwards, whatever happened, so that no reference
// leaks.
#pragma once

#include "core/service_spec.hpp"
#include "lua/lua_state.hpp"
#include "runbook/task_spec.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <memory>
#include <string>
#include <vector>

namespace luvsup::lua {

// A service's `watch` key: the absolute paths of the files it watches.
struct ServiceWatch {
  std::string service;
  std::vector<std::string> paths;
};

// What read_tasks collected: specs still without their Lua parts, and the raw
// registry references for adopt_tasks.
struct TaskReadout {
  std::vector<runbook::TaskSpec> specs;
  std::vector<int> schedule_refs;  // one per spec
  std::vector<int> run_refs;       // one per spec; LUA_NOREF for a scheduled service
  int next_after = LUA_NOREF;      // schedule.next_after
  std::vector<ServiceWatch> watches;
};

// stack: unchanged. Reads result.tasks and result.services[i].schedule and
// .watch of the DSL's result table at stack index `result` into `out`. Runs
// inside LuaState::run; may raise.
void read_tasks(lua_State* L, int result, TaskReadout& out);

// Adopts every reference of `readout` (call it even when the load failed) and
// returns the finished specs: tasks first, then scheduled services, each in
// declaration order.
std::vector<runbook::TaskSpec> adopt_tasks(const std::shared_ptr<LuaState>& state, TaskReadout& readout);

// Copies each scheduled service's schedule text and each service's watched
// paths into its spec (ServiceSpec::schedule, ::watch), so that a reload
// reports their changes.
void mark_services(std::vector<core::ServiceSpec>& services, const std::vector<runbook::TaskSpec>& tasks,
                   const std::vector<ServiceWatch>& watches);

}  // namespace luvsup::lua
