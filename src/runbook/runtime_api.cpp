#include "runbook/runtime_api.hpp"

#include "core/platform.hpp"
#include "lua/stack_loader.hpp"
#include "runbook/scheduler.hpp"
#include "runbook/service_control.hpp"
#include "runbook/waiting_call.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstring>
#include <optional>

namespace luvsup::runbook {

namespace {

constexpr const char* k_handle_metatable = "luvsup.service";

// Copies of what a shim pushes, kept outside its frame: a Lua error raised
// while pushing longjmps past the shim's locals (one loop thread only).
std::optional<ServiceSnapshot> g_snapshot;
std::string g_text;

// ---- sleep -----------------------------------------------------------------

class SleepOp final : public PendingOp {
public:
  explicit SleepOp(std::unique_ptr<core::Timer> timer) : m_timer(std::move(timer)) {}
  ~SleepOp() override { m_timer->stop(); }
  core::Timer& timer() { return *m_timer; }

private:
  std::unique_ptr<core::Timer> m_timer;
};

bool start_sleep(Waiter& waiter, double seconds) noexcept {
  core::Platform* platform = waiter.environment().platform;
  if (platform == nullptr) {
    return false;
  }
  auto op = std::make_unique<SleepOp>(platform->make_timer());
  op->timer().start(seconds, [complete = waiter.completion()] {
    complete([](lua_State*) { return 0; });
  });
  waiter.wait(std::move(op));
  return true;
}

int l_sleep(lua_State* L) {
  const double seconds = luaL_checknumber(L, 1);
  if (!(seconds >= 0) || !std::isfinite(seconds)) {
    return luaL_error(L, "sleep expects a number of seconds >= 0");
  }
  Waiter& waiter = begin_wait(L, "sleep");
  if (!start_sleep(waiter, seconds)) {
    return luaL_error(L, "sleep: no timers here (luvsup is not running the stack)");
  }
  return yield(L);
}

// ---- log -------------------------------------------------------------------

// Who is speaking: the service or task of the run, or the stack file.
void write_log(lua_State* L, spdlog::level::level_enum level, const char* text) noexcept {
  const Scheduler* scheduler = Scheduler::of(L);
  const RunInfo* run = scheduler != nullptr ? scheduler->current_run() : nullptr;
  const std::string& who = run == nullptr ? std::string("stack") : run->service.empty() ? run->label : run->service;
  spdlog::log(level, "{}: {}", who, text);
}

// log.info(fmt, ...): string.format when there are arguments, else tostring.
int l_log(lua_State* L) {
  const auto level = static_cast<spdlog::level::level_enum>(lua_tointeger(L, lua_upvalueindex(1)));
  if (lua_gettop(L) > 1) {
    luaL_checkstring(L, 1);
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");  // stack: args..., string, format
    lua_insert(L, 1);
    lua_pop(L, 1);  // stack: format, args...
    lua_call(L, lua_gettop(L) - 1, 1);
  } else {
    luaL_tolstring(L, 1, nullptr);
  }
  write_log(L, level, lua_tostring(L, -1));
  return 0;
}

// ---- service handles ---------------------------------------------------------

ServiceControl* control_of(lua_State* L) {
  Scheduler* scheduler = Scheduler::of(L);
  return scheduler != nullptr ? scheduler->environment().services : nullptr;
}

// The name of the handle at index 1, pushed on top to anchor it: read a
// method's own arguments before calling this.
const char* handle_name(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "name");
  const char* name = lua_tostring(L, -1);
  if (name == nullptr) {
    luaL_error(L, "expected a service handle (call it as svc:method())");
  }
  return name;  // anchored in the handle table
}

bool fetch_snapshot(ServiceControl* control, const char* name) noexcept {
  g_snapshot.reset();
  if (control != nullptr) {
    g_snapshot = control->find(name);
  }
  return g_snapshot.has_value();
}

enum class Action { restart, stop, start };

// Queues `action` on `name` for after the Lua code yields (see Scheduler::defer).
void defer_action(lua_State* L, const char* name, Action action, int sig) noexcept {
  Scheduler* scheduler = Scheduler::of(L);
  ServiceControl* control = control_of(L);
  scheduler->defer([control, target = std::string(name), action, sig] {
    std::string error;
    if (sig != 0) {
      error = control->signal(target, sig);
    } else if (action == Action::restart) {
      error = control->restart(target);
    } else if (action == Action::stop) {
      error = control->stop(target);
    } else {
      error = control->start(target);
    }
    if (!error.empty()) {
      spdlog::warn("{}: a hook's request failed: {}", target, error);
    }
  });
}

int no_such_service(lua_State* L, const char* name) {
  lua_pushnil(L);
  lua_pushfstring(L, "no service named '%s'", name);
  return 2;
}

int act(lua_State* L, Action action, int sig) {
  const char* name = handle_name(L);
  ServiceControl* control = control_of(L);
  if (control == nullptr) {
    return luaL_error(L, "services can be steered only while luvsup runs the stack");
  }
  if (!fetch_snapshot(control, name)) {
    return no_such_service(L, name);
  }
  defer_action(L, name, action, sig);
  lua_pushboolean(L, 1);
  return 1;
}

int l_restart(lua_State* L) { return act(L, Action::restart, 0); }
int l_stop(lua_State* L) { return act(L, Action::stop, 0); }
int l_start(lua_State* L) { return act(L, Action::start, 0); }

int l_signal(lua_State* L) {
  int sig = 0;
  if (lua_type(L, 2) == LUA_TNUMBER) {
    sig = static_cast<int>(lua_tointeger(L, 2));
  } else {
    const char* given = luaL_checkstring(L, 2);
    const char* bare = std::strncmp(given, "SIG", 3) == 0 ? given + 3 : given;
    g_text = bare;
    sig = lua::signal_number(g_text);
  }
  if (sig <= 0 || sig >= NSIG) {
    return luaL_error(L, "svc:signal: unknown signal %s", luaL_tolstring(L, 2, nullptr));
  }
  return act(L, Action::restart, sig);
}

// svc:wait(condition, timeout): a ServiceControl watch raced against a timer.
class WaitOp final : public PendingOp {
public:
  std::unique_ptr<ConditionWatch> watch;
  std::unique_ptr<core::Timer> timer;
  ~WaitOp() override {
    if (timer) {
      timer->stop();
    }
  }
};

bool start_service_wait(Waiter& waiter, ServiceControl& control, const char* name, const char* condition,
                        double timeout) noexcept {
  auto op = std::make_unique<WaitOp>();
  Completion complete = waiter.completion();
  op->watch = control.watch(name, condition, [complete](std::string error) {
    complete([error = std::move(error)](lua_State* L) {
      if (error.empty()) {
        lua_pushboolean(L, 1);
        return 1;
      }
      lua_pushnil(L);
      lua_pushlstring(L, error.data(), error.size());
      return 2;
    });
  });
  if (timeout > 0 && waiter.environment().platform != nullptr) {
    op->timer = waiter.environment().platform->make_timer();
    op->timer->start(timeout, [complete, timeout] {
      complete([timeout](lua_State* L) {
        lua_pushnil(L);
        lua_pushfstring(L, "timed out after %f s", timeout);
        return 2;
      });
    });
  }
  waiter.wait(std::move(op));
  return true;
}

bool is_condition(const char* c) {
  for (const char* known : {"started", "healthy", "completed", "stopped"}) {
    if (std::strcmp(c, known) == 0) {
      return true;
    }
  }
  return false;
}

int l_wait(lua_State* L) {
  const char* condition = luaL_optstring(L, 2, "healthy");
  const double timeout = luaL_optnumber(L, 3, 0);
  lua_settop(L, 3);
  const char* name = handle_name(L);  // pushed at 4: read the arguments first
  if (!is_condition(condition)) {
    return luaL_error(L, "svc:wait: unknown condition '%s'; expected \"started\", \"healthy\", "
                         "\"completed\" or \"stopped\"", condition);
  }
  ServiceControl* control = control_of(L);
  if (control == nullptr) {
    return luaL_error(L, "svc:wait: services can be waited for only while luvsup runs the stack");
  }
  const RunInfo* run = Scheduler::of(L)->current_run();
  if (run != nullptr && run->holds_service && run->service == name && std::strcmp(condition, "stopped") != 0) {
    return luaL_error(L, "svc:wait(\"%s\") on %s inside its own %s would never return: the "
                         "service does not start until the hook has returned", condition, name,
                      run->label.c_str());
  }
  Waiter& waiter = begin_wait(L, "svc:wait");
  if (!fetch_snapshot(control, name)) {
    return no_such_service(L, name);
  }
  start_service_wait(waiter, *control, name, condition, timeout);
  return yield(L);
}

// svc.state, svc.pid, ...: read live on every access.
int l_index(lua_State* L) {
  const char* key = luaL_checkstring(L, 2);
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "methods");
  lua_getfield(L, -1, key);  // stack: svc, key, mt, methods, method?
  if (!lua_isnil(L, -1)) {
    return 1;
  }
  lua_settop(L, 2);
  const char* name = handle_name(L);
  if (!fetch_snapshot(control_of(L), name)) {
    if (std::strcmp(key, "state") == 0) {
      lua_pushliteral(L, "removed");  // the handle outlived its service
      return 1;
    }
    return 0;
  }
  const ServiceSnapshot& s = *g_snapshot;
  if (std::strcmp(key, "state") == 0) {
    lua_pushlstring(L, s.state.data(), s.state.size());
  } else if (std::strcmp(key, "pid") == 0) {
    if (s.pid <= 0) {
      return 0;
    }
    lua_pushinteger(L, s.pid);
  } else if (std::strcmp(key, "restarts") == 0) {
    lua_pushinteger(L, s.restarts);
  } else if (std::strcmp(key, "ready") == 0) {
    lua_pushboolean(L, s.ready);
  } else if (std::strcmp(key, "health") == 0) {
    lua_pushlstring(L, s.health.data(), s.health.size());
  } else {
    return 0;
  }
  return 1;
}

int l_newindex(lua_State* L) {
  return luaL_error(L, "service handles are read-only (svc.%s)", luaL_tolstring(L, 2, nullptr));
}

int l_tostring(lua_State* L) {
  lua_pushfstring(L, "service '%s'", handle_name(L));
  return 1;
}

int l_service(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  ServiceControl* control = control_of(L);
  if (control == nullptr) {
    return luaL_error(L, "service(\"%s\"): services can be looked up only from hooks and tasks "
                         "(inside a stack file, `service` declares one)", name);
  }
  if (!fetch_snapshot(control, name)) {
    return no_such_service(L, name);
  }
  push_service_handle(L, name);
  return 1;
}

// stack: ... -> ..., metatable of service handles.
void push_handle_metatable(lua_State* L) {
  if (luaL_newmetatable(L, k_handle_metatable) != 0) {
    const luaL_Reg methods[] = {{"restart", l_restart}, {"stop", l_stop},     {"start", l_start},
                                {"signal", l_signal},   {"wait", l_wait},     {nullptr, nullptr}};
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
    lua_pushcfunction(L, l_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, l_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "service handle");
    lua_setfield(L, -2, "__name");
  }
}

}  // namespace

void push_service_handle(lua_State* L, const std::string& name) {
  luaL_checkstack(L, 4, "service handle");
  lua_createtable(L, 0, 1);
  lua_pushlstring(L, name.data(), name.size());
  lua_setfield(L, -2, "name");
  push_handle_metatable(L);
  lua_setmetatable(L, -2);
}

void open_runtime(lua_State* L) {
  luaL_checkstack(L, 6, "runbook runtime");
  lua_pushcfunction(L, l_sleep);
  lua_setglobal(L, "sleep");
  lua_pushcfunction(L, l_service);
  lua_setglobal(L, "service");  // the stack file's own `service` declares services while it loads
  lua_createtable(L, 0, 4);
  const std::pair<const char*, spdlog::level::level_enum> levels[] = {
      {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err}};
  for (const auto& [name, level] : levels) {
    lua_pushinteger(L, level);
    lua_pushcclosure(L, l_log, 1);
    lua_setfield(L, -2, name);
  }
  lua_setglobal(L, "log");
  push_handle_metatable(L);
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luvsup.coroutines");
  lua_call(L, 1, 1);  // stack: install
  push_wait_marker(L);
  lua_call(L, 1, 0);
}

}  // namespace luvsup::runbook
