#include "runbook/scheduler.hpp"

#include "core/platform.hpp"
#include "lua/lua_ref.hpp"
#include "runbook/waiting_call.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <utility>
#include <vector>

namespace luvsup::runbook {

namespace {

// Its address is the value a waiting call yields, so that the coroutine
// wrappers and the scheduler tell a wait from a script's own yield.
char k_wait_marker;

std::string format_seconds(double s) {
  return fmt::format("{:g}s", s);
}

}  // namespace

class Scheduler::Run final : public Waiter {
public:
  Run(Impl& impl, uint64_t run_id, RunInfo run_info, Pusher pusher, ResultReader reader,
      std::function<void(RunOutcome)> on_done)
      : m_impl(impl), id(run_id), info(std::move(run_info)), push(std::move(pusher)),
        results(std::move(reader)), done(std::move(on_done)) {
    budget.budget = this->info.budget;
  }
  ~Run() override;
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  Environment& environment() override;
  Completion completion() override;
  void wait(std::unique_ptr<PendingOp> op_) override { op = std::move(op_); }
  const std::string& service() const override { return info.service; }

  Impl& m_impl;
  const uint64_t id;
  RunInfo info;
  Pusher push;
  ResultReader results;
  std::function<void(RunOutcome)> done;
  lua_State* co = nullptr;  // anchored by `thread`
  lua::LuaRef thread;
  lua::LuaState::RunBudget budget;
  std::unique_ptr<PendingOp> op;
  ResultPusher result;     // the completed wait's results, pushed when it resumes
  bool completed = false;  // `result` holds a completion not yet resumed
  uint64_t wait_seq = 0;   // counts waits: a completion of an older wait is ignored
  bool queued = false;
  std::unique_ptr<core::Timer> timeout_timer;
};

struct Scheduler::Impl {
  Impl(Scheduler& owner_, lua::LuaState& state_, Environment& environment_)
      : owner(owner_), state(state_), environment(environment_) {}

  // Pins the scheduler for the length of a loop entry: destroying a run may
  // drop the last reference to it (a run's function holds the definition
  // that holds the scheduler). Null when it is not owned by a shared_ptr.
  std::shared_ptr<Scheduler> keep() { return owner.weak_from_this().lock(); }

  Scheduler& owner;
  lua::LuaState& state;
  Environment& environment;
  std::map<uint64_t, std::unique_ptr<Run>> runs;
  std::deque<uint64_t> ready;
  std::vector<std::function<void()>> deferred;
  std::unique_ptr<core::Timer> wake;
  uint64_t next_id = 1;
  Run* current = nullptr;       // the run whose coroutine runs now
  bool cancel_current = false;  // its handle was destroyed while it ran
  // Completions and handles hold a weak_ptr: once the scheduler is gone they do nothing.
  std::shared_ptr<Impl*> token = std::make_shared<Impl*>(this);

  void arm_wake() {
    if (!wake && environment.platform != nullptr) {
      wake = environment.platform->make_timer();
    }
    if (wake) {
      wake->start(0, [this] {
        auto pinned = keep();
        drain();
      });
    }
  }

  void queue(Run& run) {
    if (!run.queued) {
      run.queued = true;
      ready.push_back(run.id);
    }
    arm_wake();
  }

  void complete(uint64_t id, uint64_t seq, ResultPusher push) {
    auto it = runs.find(id);
    if (it == runs.end() || it->second->wait_seq != seq || it->second->completed) {
      return;
    }
    Run& run = *it->second;
    run.result = std::move(push);
    run.completed = true;
    queue(run);
  }

  void cancel(uint64_t id) {
    auto pinned = keep();
    if (current != nullptr && current->id == id) {
      cancel_current = true;  // closed once its coroutine has yielded
      return;
    }
    auto run = runs.extract(id);  // destroyed outside the map's own code
  }

  void finish(uint64_t id, RunOutcome outcome) {
    auto it = runs.find(id);
    if (it == runs.end()) {
      return;
    }
    std::unique_ptr<Run> run = std::move(it->second);
    runs.erase(it);
    if (outcome.status == RunOutcome::Status::failed) {
      spdlog::error("{} failed: {}", run->info.label, outcome.error);
    } else if (outcome.status == RunOutcome::Status::timed_out) {
      spdlog::error("{}: {}; it was cancelled", run->info.label, outcome.error);
    }
    auto done = std::move(run->done);
    run.reset();  // the coroutine is closed before anyone hears of the outcome
    if (done) {
      done(std::move(outcome));
    }
  }

  void run_deferred() {
    while (!deferred.empty()) {
      auto actions = std::exchange(deferred, {});
      for (auto& action : actions) {
        action();
      }
    }
  }

  void drain() {
    auto batch = std::exchange(ready, {});  // runs queued meanwhile wait for the next wake
    for (const uint64_t id : batch) {
      auto it = runs.find(id);
      // A stale entry (its wait was replaced by a newer one) is skipped.
      if (it != runs.end() && (it->second->co == nullptr || it->second->completed)) {
        it->second->queued = false;
        step(*it->second);
      } else if (it != runs.end()) {
        it->second->queued = false;
      }
    }
    run_deferred();
    if (!ready.empty()) {
      arm_wake();
    }
  }

  static int entry_finished(lua_State* co, int /*status*/, lua_KContext /*ctx*/) {
    return lua_gettop(co);
  }

  // The body of every run's coroutine: pushes the function and its
  // arguments, then calls it so that it may yield.
  static int entry(lua_State* co) {
    auto* run = static_cast<Run*>(lua_touserdata(co, lua_upvalueindex(1)));
    lua_settop(co, 0);
    const int nargs = run->push(co);  // stack: f, args...
    lua_callk(co, nargs, LUA_MULTRET, 0, entry_finished);
    return entry_finished(co, LUA_OK, 0);
  }

  // Resumes one run and acts on how its coroutine stopped.
  void step(Run& run) {
    const uint64_t id = run.id;
    if (run.co == nullptr) {
      int ref = LUA_NOREF;
      lua_State* co = nullptr;
      auto error = state.run([&](lua_State* L) {
        co = lua_newthread(L);  // stack: thread
        lua_pushlightuserdata(co, &run);
        lua_pushcclosure(co, entry, 1);  // co's stack: entry
        ref = luaL_ref(L, LUA_REGISTRYINDEX);
      });
      run.thread = lua::LuaRef(state, ref);
      if (error) {
        finish(id, {RunOutcome::Status::failed, "cannot start a coroutine: " + *error});
        return;
      }
      run.co = co;
    }
    run.op.reset();  // a completed operation goes now, outside its own callbacks
    run.completed = false;
    current = &run;
    int nresults = 0;
    const int status = state.resume(run.co, run.budget, 0, &nresults);
    current = nullptr;

    RunOutcome outcome;
    bool finished = true;
    if (status == LUA_YIELD) {
      const bool waits = nresults == 1 && lua_touserdata(run.co, -1) == &k_wait_marker;
      lua_pop(run.co, nresults);
      if (waits) {
        finished = false;
        if (run.completed) {
          queue(run);  // completed inline
        }
      } else {
        outcome = {RunOutcome::Status::failed,
                   "coroutine.yield() outside a coroutine the hook made itself: hooks and tasks "
                   "wait with sleep, exec, http or svc:wait"};
      }
    } else if (status == LUA_OK) {
      if (run.results) {
        auto error = state.run([&](lua_State*) { run.results(run.co, nresults); });
        if (error) {
          outcome = {RunOutcome::Status::failed, "reading its results: " + *error};
        }
      }
    } else {
      std::string error;
      auto traced = state.run([&](lua_State* L) {
        const char* msg = lua_type(run.co, -1) == LUA_TSTRING ? lua_tostring(run.co, -1) : nullptr;
        if (msg == nullptr) {
          msg = lua_isnil(run.co, -1) ? "error(nil) raised (the error object is nil)"
                                      : "(the error object is not a string)";
        }
        luaL_traceback(L, run.co, msg, 0);
        error = lua_tostring(L, -1);
      });
      if (traced) {
        error = "(no traceback: " + *traced + ")";
      }
      if (status == LUA_ERRMEM) {
        error += " (the Lua state reached its memory limit)";
      }
      outcome = {RunOutcome::Status::failed, std::move(error)};
    }
    run_deferred();  // may cancel or finish runs, this one included
    if (std::exchange(cancel_current, false)) {
      auto cancelled = runs.extract(id);
      return;
    }
    if (finished) {
      finish(id, std::move(outcome));
    }
  }
};

Scheduler::Run::~Run() {
  op.reset();  // kills what it waits for
  if (co != nullptr) {
    m_impl.state.close_thread(co, budget);
  }
}

Environment& Scheduler::Run::environment() { return m_impl.environment; }

Completion Scheduler::Run::completion() {
  const uint64_t seq = ++wait_seq;
  completed = false;  // a wait that never yielded (an error in between) leaves nothing behind
  result = nullptr;
  std::weak_ptr<Impl*> token = m_impl.token;
  return [token, run_id = id, seq](ResultPusher pusher) {
    if (auto alive = token.lock()) {
      (*alive)->complete(run_id, seq, std::move(pusher));
    }
  };
}

namespace {

class Handle final : public RunHandle {
public:
  Handle(std::weak_ptr<Scheduler::Impl*> token, uint64_t id) : m_token(std::move(token)), m_id(id) {}
  ~Handle() override {
    if (auto alive = m_token.lock()) {
      (*alive)->cancel(m_id);
    }
  }

private:
  std::weak_ptr<Scheduler::Impl*> m_token;
  uint64_t m_id;
};

}  // namespace

Scheduler::Scheduler(lua::LuaState& state, Environment& environment)
    : m_state(state), m_environment(environment), m_impl(std::make_unique<Impl>(*this, state, environment)) {
  state.set_scheduler(this);
}

Scheduler::~Scheduler() {
  while (!m_impl->runs.empty()) {
    auto run = m_impl->runs.extract(m_impl->runs.begin());
  }
  m_state.set_scheduler(nullptr);
}

std::unique_ptr<RunHandle> Scheduler::start(RunInfo info, Pusher push, ResultReader results,
                                            std::function<void(RunOutcome)> done) {
  const uint64_t id = m_impl->next_id++;
  auto run = std::make_unique<Run>(*m_impl, id, std::move(info), std::move(push), std::move(results),
                                   std::move(done));
  Run& added = *run;
  m_impl->runs.emplace(id, std::move(run));
  if (added.info.timeout > 0 && m_environment.platform != nullptr) {
    added.timeout_timer = m_environment.platform->make_timer();
    added.timeout_timer->start(added.info.timeout, [impl = m_impl.get(), id, timeout = added.info.timeout] {
      auto pinned = impl->keep();
      impl->finish(id, {RunOutcome::Status::timed_out, "timed out after " + format_seconds(timeout)});
    });
  }
  m_impl->queue(added);
  return std::make_unique<Handle>(m_impl->token, id);
}

void Scheduler::defer(std::function<void()> action) {
  m_impl->deferred.push_back(std::move(action));
  if (m_impl->current == nullptr) {
    m_impl->arm_wake();
  }
}

Scheduler* Scheduler::of(lua_State* L) {
  lua::LuaState* state = lua::LuaState::from(L);
  return state != nullptr ? static_cast<Scheduler*>(state->scheduler()) : nullptr;
}

const RunInfo* Scheduler::current_run() const {
  return m_impl->current != nullptr ? &m_impl->current->info : nullptr;
}

size_t Scheduler::active_runs() const { return m_impl->runs.size(); }

Waiter& begin_wait(lua_State* L, const char* call) {
  Scheduler* scheduler = Scheduler::of(L);
  Scheduler::Run* run = scheduler != nullptr ? scheduler->m_impl->current : nullptr;
  if (run == nullptr) {
    luaL_error(L, "%s waits, so it can only be called from a hook or task, not while the stack "
                  "file loads or from a health verdict or restart policy", call);
  }
  if (!lua_isyieldable(L)) {
    luaL_error(L, "%s cannot wait here: it was called from inside a C function or metamethod "
                  "(such as table.sort or string.gsub); call it from the hook's own code", call);
  }
  return *run;
}

namespace {

int after_wait(lua_State* L, int /*status*/, lua_KContext /*ctx*/) {
  auto& run = static_cast<Scheduler::Run&>(begin_wait(L, "a waiting call"));
  if (!run.result) {
    return 0;
  }
  const int n = run.result(L);
  run.result = nullptr;
  return n;
}

}  // namespace

void push_wait_marker(lua_State* L) { lua_pushlightuserdata(L, &k_wait_marker); }

int yield(lua_State* L) {
  lua_pushlightuserdata(L, &k_wait_marker);
  return lua_yieldk(L, 1, 0, after_wait);
}

}  // namespace luvsup::runbook
