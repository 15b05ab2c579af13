#include "lua/lua_state.hpp"

#include "lua/module_searcher.hpp"
#include "os/signal_epoch.hpp"

extern "C" {
#include <lauxlib.h>
#include <lualib.h>
}

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace luvsup::lua {

namespace {

constexpr int k_hook_interval = 1000;  // instructions between budget checks

double now_seconds() noexcept {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Reached only if an error escapes every protected call, which run() and
// call() exist to prevent. Say so loudly rather than silently aborting.
int panic(lua_State* L) {
  const char* msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(non-string error)";
  std::fprintf(stderr, "luvsup: unprotected Lua error (bug): %s\n", msg);
  std::fflush(stderr);
  return 0;  // Lua aborts
}

// Message handler of every protected call: turns any error value into a
// string and appends a traceback.
int message_handler(lua_State* L) {
  const LuaState* state = LuaState::from(L);
  const char* msg = nullptr;
  if (lua_type(L, 1) == LUA_TSTRING) {
    msg = lua_tostring(L, 1);
  } else if (lua_isnil(L, 1)) {
    msg = "error(nil) raised (the error object is nil)";
  } else if (state != nullptr && luaL_getmetafield(L, 1, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);  // stack: err
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);  // stack: err, str
    }
  }
  if (msg == nullptr) {
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);  // stack: err, [str], traceback
  return 1;
}

int blocked_execute(lua_State* L) {
  return luaL_error(L, "os.execute blocks the supervisor; in a hook or task use exec { ... }, which waits without blocking it; elsewhere run the command as a health.exec probe or a oneshot service");
}

int blocked_popen(lua_State* L) {
  return luaL_error(L, "io.popen blocks the supervisor; in a hook or task use exec { ... }, which waits without blocking it; elsewhere run the command as a health.exec probe or a oneshot service");
}

int blocked_exit(lua_State* L) {
  return luaL_error(L, "os.exit would stop the supervisor and every service; raise an error with "
                       "error() instead, or run `luvsup stop`");
}

// Opens the standard libraries, replaces the blocking functions and makes
// require load luvsup's modules from their precompiled bytecode.
void open_libraries(lua_State* L) {
  luaL_openlibs(L);
  install_module_searcher(L);
  lua_getglobal(L, "os");  // stack: os
  lua_pushcfunction(L, blocked_execute);
  lua_setfield(L, -2, "execute");
  lua_pushcfunction(L, blocked_exit);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);           // stack: (empty)
  lua_getglobal(L, "io");  // stack: io
  lua_pushcfunction(L, blocked_popen);
  lua_setfield(L, -2, "popen");
  lua_pop(L, 1);
}

}  // namespace

LuaState::LuaState(size_t memory_limit) : m_limit(memory_limit) {
  m_L = lua_newstate(&LuaState::allocate, this);
  if (m_L == nullptr) {
    throw std::bad_alloc();
  }
  ++s_live_states;
  *static_cast<LuaState**>(lua_getextraspace(m_L)) = this;
  lua_atpanic(m_L, panic);
  if (auto err = run(open_libraries, k_load_budget)) {
    lua_close(m_L);
    --s_live_states;
    throw std::runtime_error("cannot open the Lua libraries: " + *err);
  }
}

LuaState::~LuaState() {
  lua_close(m_L);
  --s_live_states;
}

LuaState* LuaState::from(lua_State* L) {
  return *static_cast<LuaState**>(lua_getextraspace(L));
}

void* LuaState::allocate(void* ud, void* ptr, size_t osize, size_t nsize) noexcept {
  auto* self = static_cast<LuaState*>(ud);
  const size_t old = ptr != nullptr ? osize : 0;  // without ptr, osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    self->m_used -= old;
    s_used_in_all -= old;
    return nullptr;
  }
  if (nsize > old && self->m_used - old + nsize > self->m_limit) {
    return nullptr;  // refuse growth past the cap; Lua raises a memory error
  }
  void* block = std::realloc(ptr, nsize);
  if (block == nullptr) {
    if (nsize <= old) {
      return ptr;  // Lua assumes shrinking never fails: keep the larger block
    }
    return nullptr;
  }
  self->m_used = self->m_used - old + nsize;
  s_used_in_all = s_used_in_all - old + nsize;
  return block;
}

void LuaState::count_hook(lua_State* L, lua_Debug* /*ar*/) {
  LuaState* self = from(L);
  Run& run = self->m_run;
  if (!run.active) {
    return;  // a coroutine keeps the hook after its run ended
  }
  if (!run.overrun) {
    run.instructions += static_cast<uint64_t>(lua_gethookcount(L));
    if (run.instructions <= run.budget.instructions &&
        now_seconds() - run.started <= run.budget.seconds) {
      return;
    }
    run.overrun = true;
    lua_Debug here;
    if (lua_getstack(L, 0, &here) != 0 && lua_getinfo(L, "Sl", &here) != 0 && here.currentline > 0) {
      std::snprintf(run.where, sizeof run.where, "%s:%d: ", here.short_src, here.currentline);
    }
  }
  // Fire on every instruction from now on, in this coroutine and the main
  // thread, so that a pcall in the script cannot swallow the stop.
  lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
  if (L != self->m_L) {
    lua_sethook(self->m_L, count_hook, LUA_MASKCOUNT, 1);
  }
  lua_pushfstring(L, "%sLua code exceeded its instruction budget (%I instructions or %f s) and was stopped",
                  run.where, static_cast<lua_Integer>(run.budget.instructions), run.budget.seconds);
  lua_error(L);
}

// stack: nresults, f, args... -> the results of f(args...)
int LuaState::trampoline(lua_State* L) {
  const int nresults = static_cast<int>(lua_tointeger(L, 1));
  lua_remove(L, 1);  // stack: f, args...
  lua_call(L, lua_gettop(L) - 1, nresults);
  return nresults == LUA_MULTRET ? lua_gettop(L) : nresults;
}

// stack: body (light userdata) -> nothing
int LuaState::run_body(lua_State* L) {
  const auto* body = static_cast<const std::function<void(lua_State*)>*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  (*body)(L);
  return 0;
}

std::optional<std::string> LuaState::protected_call(int nargs, int nresults, Budget budget) {
  const int base = lua_gettop(m_L) - nargs;  // index of the function
  lua_pushcfunction(m_L, message_handler);
  lua_insert(m_L, base);  // stack: msgh, f, args...
  const bool outermost = !m_run.active;
  if (outermost) {
    m_run = Run{true, false, 0, budget, now_seconds()};
    lua_sethook(m_L, count_hook, LUA_MASKCOUNT, k_hook_interval);
  }
  const int status = lua_pcall(m_L, nargs, nresults, base);
  os::advance_signal_epoch();  // the code may have loaded a C module that set a handler
  if (outermost) {
    lua_sethook(m_L, nullptr, 0, 0);
    m_run.active = false;
  }
  if (status == LUA_OK) {
    lua_remove(m_L, base);  // stack: results...
    return std::nullopt;
  }
  std::string error = lua_type(m_L, -1) == LUA_TSTRING ? lua_tostring(m_L, -1)
                                                        : "(error object is not a string)";
  if (status == LUA_ERRMEM) {
    error += " (the Lua state reached its memory limit)";
  }
  lua_settop(m_L, base - 1);
  if (outermost) {
    lua_gc(m_L, LUA_GCCOLLECT);  // release what the failed call left behind
  }
  return error;
}

int LuaState::resume(lua_State* co, RunBudget& run, int nargs, int* nresults) {
  const Run outer = m_run;  // a resume never nests in a protected call, but be safe
  m_run = Run{true, run.overrun, run.instructions, run.budget, now_seconds() - run.seconds};
  std::memcpy(m_run.where, run.where, sizeof run.where);
  // Re-setting the hook would restart its countdown and let a run that
  // yields often escape counting: set it only when it differs.
  const int count = run.overrun ? 1 : k_hook_interval;
  if (lua_gethook(co) != count_hook || lua_gethookcount(co) != count) {
    lua_sethook(co, count_hook, LUA_MASKCOUNT, count);
  }
  const int status = lua_resume(co, m_L, nargs, nresults);
  os::advance_signal_epoch();  // as in protected_call
  run.instructions = m_run.instructions;
  run.seconds = now_seconds() - m_run.started;
  run.overrun = m_run.overrun || run.instructions > run.budget.instructions || run.seconds > run.budget.seconds;
  std::memcpy(run.where, m_run.where, sizeof run.where);
  m_run = outer;
  if (!m_run.active) {
    lua_sethook(m_L, nullptr, 0, 0);  // the overrun re-armed it on the main thread
  }
  return status;
}

void LuaState::close_thread(lua_State* co, RunBudget& run) {
  const Run outer = m_run;
  // Pending <close> handlers run now: under the run's budget, so that one
  // that never ends is stopped (lua_resetthread catches the raise).
  m_run = Run{true, run.overrun, run.instructions, run.budget, now_seconds() - run.seconds};
  lua_sethook(co, count_hook, LUA_MASKCOUNT, run.overrun ? 1 : k_hook_interval);
#if LUA_VERSION_RELEASE_NUM >= 50406
  lua_closethread(co, nullptr);
#else
  lua_resetthread(co);
#endif
  lua_sethook(co, nullptr, 0, 0);
  m_run = outer;
  if (!m_run.active) {
    lua_sethook(m_L, nullptr, 0, 0);
  }
}

std::optional<std::string> LuaState::call(int nargs, int nresults, Budget budget) {
  if (!lua_checkstack(m_L, 3)) {
    lua_pop(m_L, nargs + 1);
    return std::string("Lua stack overflow");
  }
  const int base = lua_gettop(m_L) - nargs;  // index of the function
  lua_pushcfunction(m_L, trampoline);
  lua_insert(m_L, base);  // stack: trampoline, f, args...
  lua_pushinteger(m_L, nresults);
  lua_insert(m_L, base + 1);  // stack: trampoline, nresults, f, args...
  return protected_call(nargs + 2, nresults, budget);
}

std::optional<std::string> LuaState::run(const std::function<void(lua_State*)>& body, Budget budget) {
  if (!lua_checkstack(m_L, 3)) {
    return std::string("Lua stack overflow");
  }
  const int top = lua_gettop(m_L);
  lua_pushcfunction(m_L, run_body);
  lua_pushlightuserdata(m_L, const_cast<std::function<void(lua_State*)>*>(&body));
  auto error = protected_call(1, 0, budget);
  lua_settop(m_L, top);
  return error;
}

}  // namespace luvsup::lua
