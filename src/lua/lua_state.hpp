// One Lua state, owned by C++, with the guards every call into Lua needs.
//
// Debian's Lua 5.4 is built as C: a Lua error longjmps through C++ frames
// and skips destructors, and an error raised outside a protected call ends in
// lua_atpanic (abort). So every entry into Lua goes through run() or call(),
// which run a C trampoline under one lua_pcall with
//   - a message handler that adds a traceback (and copes with error(nil) and
//     non-string errors),
//   - an instruction and wall-time budget enforced by a count hook: on overrun
//     the hook raises "... exceeded its instruction budget" and re-arms itself
//     on every instruction, so a pcall inside the script cannot swallow it,
//   - a capped allocator: a script that allocates without end gets a memory
//     error instead of taking the supervisor down.
// The blocking functions os.execute, io.popen and os.exit are replaced by
// functions that raise an error naming the alternative.
#pragma once

extern "C" {
#include <lua.h>
}

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace luvsup::lua {

// How much work one protected call may do before it is stopped.
struct Budget {
  uint64_t instructions = 10'000'000;
  double seconds = 1.0;
};

// Budget of a policy or hook call, and of loading a stack file.
inline constexpr Budget k_call_budget{10'000'000, 1.0};
inline constexpr Budget k_load_budget{200'000'000, 10.0};
inline constexpr size_t k_default_memory_limit = 64u << 20;

class LuaState {
public:
  // Creates a state with the standard libraries, capped at `memory_limit`
  // bytes. Throws std::bad_alloc when Lua cannot even start.
  explicit LuaState(size_t memory_limit = k_default_memory_limit);
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;

  // The raw state, for code that drives the Lua stack inside run().
  [[nodiscard]] lua_State* get() const { return m_L; }

  // Calls the function below `nargs` arguments on top of the stack, in
  // protected mode under `budget`. On success leaves `nresults` results
  // (LUA_MULTRET: all) and returns nullopt; on failure leaves nothing and
  // returns the error with its traceback. Pushing the function and arguments
  // can itself raise a memory error: push them inside run() when that matters.
  std::optional<std::string> call(int nargs, int nresults, Budget budget = k_call_budget);

  // Runs `body` inside the protected trampoline under `budget`: body may push,
  // read tables and lua_call freely, since any Lua error it raises is caught.
  // Body must not keep objects with destructors alive across Lua API calls
  // (write results into variables owned by the caller). The stack is restored
  // to its height before the call. Returns nullopt or the error.
  std::optional<std::string> run(const std::function<void(lua_State*)>& body,
                                 Budget budget = k_call_budget);

  // What one coroutine run has spent of its budget, kept across its
  // resumptions (runbook::Scheduler owns one per run).
  struct RunBudget {
    Budget budget;
    uint64_t instructions = 0;
    double seconds = 0;    // time spent running Lua, not waiting
    bool overrun = false;
    char where[96] = {};   // "file:line: " of the overrun
  };

  // Resumes coroutine `co` (lua_resume) with `nargs` arguments on its stack,
  // under `run`'s budget: the count hook goes on `co` (coroutines it creates
  // inherit it) and, once the run has overrun, fires on every instruction so
  // the run cannot swallow the stop. Returns lua_resume's status; *nresults
  // as lua_resume sets it. Not reentrant: only one coroutine runs at a time.
  int resume(lua_State* co, RunBudget& run, int nargs, int* nresults);

  // Closes coroutine `co`, which will not be resumed again (lua_resetthread,
  // lua_closethread from 5.4.6): its pending to-be-closed variables run under
  // `run`'s budget.
  void close_thread(lua_State* co, RunBudget& run);

  // The runbook::Scheduler of this state (opaque here: the scheduler sets
  // and clears it), or null.
  void set_scheduler(void* scheduler) { m_scheduler = scheduler; }
  [[nodiscard]] void* scheduler() const { return m_scheduler; }

  // Bytes the Lua state currently holds, and the cap.
  [[nodiscard]] size_t memory_in_use() const { return m_used; }
  [[nodiscard]] size_t memory_limit() const { return m_limit; }
  // Runs a full garbage collection in protected mode. Loading a stack leaves
  // the DSL's temporary tables behind, which the incremental collector would
  // keep until the state doubles; a supervisor that then idles should not
  // carry them. A stack's own __gc finalisers run here as in any collection
  // step: Lua turns their errors into warnings and runs them without hooks.
  void collect_garbage() {
    (void)run([](lua_State* L) { lua_gc(L, LUA_GCCOLLECT); });
  }

  // Registry references alive (see LuaRef), for leak tests.
  [[nodiscard]] int live_refs() const { return m_live_refs; }
  void add_live_ref(int delta) {
    m_live_refs += delta;
    s_refs_in_all += delta;
  }

  // LuaState objects alive in the process, the bytes and the references all
  // of them hold:
  // a reload leaks a state when these grow (tests; one loop thread only).
  [[nodiscard]] static int live_states() { return s_live_states; }
  [[nodiscard]] static size_t memory_in_all_states() { return s_used_in_all; }
  [[nodiscard]] static int live_refs_in_all_states() { return s_refs_in_all; }

  // The LuaState that owns `L` (any thread of it).
  static LuaState* from(lua_State* L);

private:
  static void* allocate(void* ud, void* ptr, size_t osize, size_t nsize) noexcept;
  static void count_hook(lua_State* L, lua_Debug* ar);
  static int trampoline(lua_State* L);
  static int run_body(lua_State* L);
  std::optional<std::string> protected_call(int nargs, int nresults, Budget budget);

  struct Run {
    bool active = false;
    bool overrun = false;
    uint64_t instructions = 0;
    Budget budget;
    double started = 0;
    char where[96] = {};  // "file:line: " of the first overrun
  };

  lua_State* m_L = nullptr;
  void* m_scheduler = nullptr;
  size_t m_used = 0;
  size_t m_limit = k_default_memory_limit;
  int m_live_refs = 0;
  Run m_run;
  static inline int s_live_states = 0;
  static inline size_t s_used_in_all = 0;
  static inline int s_refs_in_all = 0;
};

}  // namespace luvsup::lua
