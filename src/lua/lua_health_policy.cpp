#include "lua/lua_health_policy.hpp"

#include "lua/probe_result.hpp"
#include "lua/table_read.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <spdlog/spdlog.h>

#include <cstring>

namespace luvsup::lua {

namespace {

// stack: ... -> ..., table: the table `kept` refers to, made (with room for
// `narr` and `nrec` fields) and referred to on the first call. May raise.
void push_kept_table(lua_State* L, LuaState& state, LuaRef& kept, int narr, int nrec) {
  if (!kept.valid()) {
    lua_createtable(L, narr, nrec);
    lua_pushvalue(L, -1);
    kept = LuaRef(state, luaL_ref(L, LUA_REGISTRYINDEX));
  } else {
    kept.push(L);
  }
}

// stack: ... -> ..., results (a list by leaf number). The list and its
// result tables are those of the previous round, refilled: a table whose
// keys are all there already is set without growing, rehashing or
// allocating. The judge copies a result before a verdict, which could keep
// it, sees it. May raise.
void push_results(lua_State* L, LuaState& state, LuaRef& list,
                  const std::vector<health::ProbeResult>& results) {
  push_kept_table(L, state, list, static_cast<int>(results.size()), 0);
  lua_Integer i = 0;
  for (const auto& r : results) {
    if (lua_rawgeti(L, -1, ++i) != LUA_TTABLE) {
      lua_pop(L, 1);
      push_probe_result(L, r);
      lua_pushvalue(L, -1);
      lua_rawseti(L, -3, i);
    } else {
      fill_probe_result(L, r);
    }
    lua_pop(L, 1);
  }
}

const char* state_name(core::HealthState state) {
  switch (state) {
  case core::HealthState::healthy:
    return "healthy";
  case core::HealthState::unhealthy:
    return "unhealthy";
  case core::HealthState::none:
  case core::HealthState::starting:
    break;
  }
  return "starting";
}

// stack: counters -> counters: fills in every field. May raise.
void set_counters(lua_State* L, const core::HealthCounters& c) {
  lua_pushstring(L, state_name(c.state));
  lua_setfield(L, -2, "state");
  lua_pushinteger(L, c.failures);
  lua_setfield(L, -2, "failures");
  lua_pushinteger(L, c.successes);
  lua_setfield(L, -2, "successes");
  lua_pushinteger(L, c.fired_at);
  lua_setfield(L, -2, "fired_at");
  lua_pushboolean(L, c.in_start_period);
  lua_setfield(L, -2, "in_start_period");
  lua_pushnumber(L, c.started);
  lua_setfield(L, -2, "started");
  lua_pushboolean(L, c.primary_passed);
  lua_setfield(L, -2, "primary_passed");
  if (c.excused_since >= 0) {
    lua_pushnumber(L, c.excused_since);
  } else {
    lua_pushnil(L);
  }
  lua_setfield(L, -2, "excused_since");
}

// stack: out -> out. Reads the judge's answer. May raise.
void read_judgement(lua_State* L, core::HealthJudgement& j, std::string& state) {
  read_string(L, "state", state);
  core::HealthCounters& c = j.counters;
  c.failures = static_cast<int>(read_number(L, "failures", c.failures));
  c.successes = static_cast<int>(read_number(L, "successes", c.successes));
  c.fired_at = static_cast<int>(read_number(L, "fired_at", c.fired_at));
  c.in_start_period = read_bool(L, "in_start_period", false);
  c.primary_passed = read_bool(L, "primary_passed", false);
  c.excused_since = read_number(L, "excused_since", -1);
  j.passed = read_bool(L, "passed", false);
  j.fire = read_bool(L, "fire", false);
  j.next = read_number(L, "next", j.next);
  read_string(L, "error", j.error);
  read_string(L, "warning", j.warning);
  read_string(L, "summary", j.summary);
  j.result.latency = read_number(L, "latency", 0);
  j.result.status = static_cast<int>(read_number(L, "status", 0));
  read_string(L, "output", j.result.output);
}

} // namespace

LuaHealthPolicy::LuaHealthPolicy(std::shared_ptr<LuaState> state, LuaRef judge, LuaRef def,
                                 std::string service_name, double interval, Budget budget)
    : m_state(std::move(state)), m_judge(std::move(judge)), m_def(std::move(def)),
      m_name(std::move(service_name)), m_interval(interval), m_budget(budget) {}

core::HealthJudgement LuaHealthPolicy::judge(const core::HealthCounters& counters,
                                             const std::vector<health::ProbeResult>& primary,
                                             const std::vector<health::ProbeResult>* fallback,
                                             double now) {
  core::HealthJudgement j;
  j.counters = counters;
  j.next = m_interval;
  std::string state;
  // One pointer captured, so that the std::function run() takes fits in its
  // own storage instead of the heap: the judge runs for every round.
  struct Call {
    LuaHealthPolicy& self;
    const core::HealthCounters& counters;
    const std::vector<health::ProbeResult>& primary;
    const std::vector<health::ProbeResult>* fallback;
    double now;
    core::HealthJudgement& j;
    std::string& state;
  } call{*this, counters, primary, fallback, now, j, state};
  auto error = m_state->run(
      [c = &call](lua_State* L) {
        luaL_checkstack(L, 8, "health judge");
        c->self.m_judge.push(L); // stack: judge
        c->self.m_def.push(L);   // stack: judge, def
        c->self.push_counters(L, c->counters);
        LuaHealthPolicy& self = c->self;
        push_results(L, *self.m_state, self.m_primary, c->primary);
        if (c->fallback != nullptr) {
          push_results(L, *self.m_state, self.m_fallback, *c->fallback);
        } else {
          lua_pushnil(L);
        }
        lua_pushnumber(L, c->now); // stack: judge, def, counters, primary, fallback, now
        push_kept_table(L, *self.m_state, self.m_out, 0, 16); // stack: ..., now, out
        lua_call(L, 6, 1);         // stack: out
        if (!lua_istable(L, -1)) {
          luaL_error(L, "health.judge returned a %s", luaL_typename(L, -1));
        }
        read_judgement(L, c->j, c->state);
      },
      m_budget);
  if (error) {
    spdlog::error("{}: health check failed to judge: {}", m_name, *error);
    core::HealthJudgement failed;
    failed.counters = counters;
    failed.next = m_interval;
    failed.error = "the health check failed to judge (see the log)";
    failed.summary = "judge";
    failed.result.error = failed.error;
    return failed;
  }
  j.counters.state = state == "healthy"     ? core::HealthState::healthy
                     : state == "unhealthy" ? core::HealthState::unhealthy
                                            : core::HealthState::starting;
  j.result.ok = j.passed;
  j.result.error = j.error;
  return j;
}

void LuaHealthPolicy::push_counters(lua_State* L, const core::HealthCounters& counters) {
  push_kept_table(L, *m_state, m_counters, 0, 8); // stack: counters
  set_counters(L, counters);
}

} // namespace luvsup::lua
