#include "lua/task_reader.hpp"

#include "lua/lua_ref.hpp"
#include "lua/table_read.hpp"

#include <utility>

namespace luvsup::lua {

namespace {

// A task's schedule and function in its Lua state. The state is declared
// before the references, so they go first.
class LuaTask final : public runbook::TaskSchedule, public runbook::TaskFunction {
public:
  LuaTask(std::shared_ptr<LuaState> state, std::shared_ptr<const LuaRef> next_after, LuaRef schedule, LuaRef run)
      : m_state(std::move(state)),
        m_next_after(std::move(next_after)),
        m_schedule(std::move(schedule)),
        m_run(std::move(run)) {}

  std::optional<double> next_after(double wall, std::string& error) const override {
    bool found = false;
    double next = 0;
    auto failed = m_state->run([&](lua_State* L) {
      m_next_after->push(L);
      m_schedule.push(L);
      lua_pushnumber(L, wall);
      lua_call(L, 2, 2);  // stack: next|nil, nil|error
      if (lua_type(L, -2) == LUA_TNUMBER) {
        found = true;
        next = lua_tonumber(L, -2);
      } else {
        const char* why = lua_tostring(L, -1);
        error = why != nullptr ? why : "the schedule gave no next run";
      }
    });
    if (failed) {
      error = *failed;
      return std::nullopt;
    }
    return found ? std::optional<double>(next) : std::nullopt;
  }

  int push(lua_State* co) const override {
    m_run.push(co);  // the registry is shared by every coroutine of the state
    return 0;
  }

  lua_State* state() const override { return m_state->get(); }

private:
  std::shared_ptr<LuaState> m_state;
  std::shared_ptr<const LuaRef> m_next_after;  // schedule.next_after, shared by the tasks of a load
  LuaRef m_schedule;
  LuaRef m_run;
};

// stack: t -> t; t.schedule's description (schedule.describe), or "".
void read_schedule_text(lua_State* L, int describe, std::string& out) {
  lua_pushvalue(L, describe);
  lua_getfield(L, -2, "schedule");  // stack: t, describe, schedule
  lua_call(L, 1, 1);
  size_t len = 0;
  const char* s = lua_tolstring(L, -1, &len);
  out.assign(s != nullptr ? s : "", s != nullptr ? len : 0);
  lua_pop(L, 1);
}

}  // namespace

void read_tasks(lua_State* L, int result, TaskReadout& out) {
  luaL_checkstack(L, 8, "task reader");
  result = lua_absindex(L, result);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.schedule");
  lua_call(L, 1, 1);  // stack: schedule
  lua_getfield(L, -1, "describe");  // stack: schedule, describe
  const int describe = lua_gettop(L);
  lua_getfield(L, -2, "next_after");  // stack: schedule, describe, next_after
  out.next_after = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, result);  // stack: schedule, describe, result
  for_each_in(L, "tasks", [&] {  // stack: ..., result, tasks, task
    out.specs.emplace_back();
    runbook::TaskSpec& spec = out.specs.back();
    spec.kind = runbook::TaskSpec::Kind::function;
    read_string(L, "name", spec.name);
    read_string(L, "source_file", spec.source_file);
    spec.source_line = static_cast<int>(read_number(L, "source_line", 0));
    spec.timeout = read_number(L, "timeout", 0);
    read_schedule_text(L, describe, spec.schedule_text);
    out.schedule_refs.push_back(LUA_NOREF);
    out.run_refs.push_back(LUA_NOREF);
    lua_getfield(L, -1, "schedule");  // stack: ..., task, schedule
    out.schedule_refs.back() = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, -1, "run");  // stack: ..., task, run
    out.run_refs.back() = luaL_ref(L, LUA_REGISTRYINDEX);
  });
  for_each_in(L, "services", [&] {  // stack: ..., result, services, svc
    if (lua_getfield(L, -1, "schedule") == LUA_TTABLE) {  // stack: ..., svc, schedule
      out.specs.emplace_back();
      out.schedule_refs.push_back(LUA_NOREF);
      out.run_refs.push_back(LUA_NOREF);
      out.schedule_refs.back() = luaL_ref(L, LUA_REGISTRYINDEX);  // stack: ..., svc
      runbook::TaskSpec& spec = out.specs.back();
      spec.kind = runbook::TaskSpec::Kind::service;
      read_string(L, "name", spec.name);
      read_string(L, "source_file", spec.source_file);
      spec.source_line = static_cast<int>(read_number(L, "source_line", 0));
      read_schedule_text(L, describe, spec.schedule_text);
    } else {
      lua_pop(L, 1);
    }
    if (lua_getfield(L, -1, "watch") == LUA_TTABLE) {  // stack: ..., svc, watch
      lua_pop(L, 1);
      out.watches.emplace_back();
      read_string(L, "name", out.watches.back().service);
      read_string_list(L, "watch", out.watches.back().paths);
    } else {
      lua_pop(L, 1);
    }
  });
  lua_pop(L, 3);  // stack: (as it was)
}

std::vector<runbook::TaskSpec> adopt_tasks(const std::shared_ptr<LuaState>& state, TaskReadout& readout) {
  auto next_after = std::make_shared<const LuaRef>(*state, std::exchange(readout.next_after, LUA_NOREF));
  std::vector<LuaRef> schedules;
  std::vector<LuaRef> runs;
  for (size_t i = 0; i < readout.specs.size(); ++i) {
    schedules.emplace_back(*state, i < readout.schedule_refs.size() ? readout.schedule_refs[i] : LUA_NOREF);
    runs.emplace_back(*state, i < readout.run_refs.size() ? readout.run_refs[i] : LUA_NOREF);
  }
  readout.schedule_refs.clear();
  readout.run_refs.clear();
  std::vector<runbook::TaskSpec> specs = std::move(readout.specs);
  readout.specs.clear();
  if (!next_after->valid()) {
    return {};  // the load failed before the reader ran
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    auto task = std::make_shared<LuaTask>(state, next_after, std::move(schedules[i]), std::move(runs[i]));
    specs[i].schedule = task;
    if (specs[i].kind == runbook::TaskSpec::Kind::function) {
      specs[i].function = task;
    }
  }
  return specs;
}

void mark_services(std::vector<core::ServiceSpec>& services, const std::vector<runbook::TaskSpec>& tasks,
                   const std::vector<ServiceWatch>& watches) {
  for (core::ServiceSpec& spec : services) {
    for (const runbook::TaskSpec& task : tasks) {
      if (task.kind == runbook::TaskSpec::Kind::service && task.name == spec.name) {
        spec.schedule = task.schedule_text;
      }
    }
    for (const ServiceWatch& w : watches) {
      if (w.service == spec.name) {
        spec.watch = w.paths;
      }
    }
  }
}

}  // namespace luvsup::lua
