// What a stack schedules: a stack-level `task "name" { ... }` (Lua code run
// as a coroutine) or a oneshot service with `every`/`cron` (started by the
// supervisor), with the schedule that says when.
//
// The schedule itself is a decision made in Lua (lua/luvsup/schedule.lua,
// behind lua::LuaTask); runbook::TaskRunner only asks it for the next run.
#pragma once

#include <memory>
#include <optional>
#include <string>

extern "C" {
#include <lua.h>
}

namespace luvsup::runbook {

class Scheduler;

// When a task runs.
class TaskSchedule {
public:
  virtual ~TaskSchedule() = default;
  // The first run strictly after `wall` (seconds since the epoch, wall
  // clock), or nullopt with `error` set when there is none. Never throws.
  virtual std::optional<double> next_after(double wall, std::string& error) const = 0;
};

// The Lua function a stack-level task runs.
class TaskFunction {
public:
  virtual ~TaskFunction() = default;
  // Pushes the function onto `co` (a coroutine of its Lua state) and returns
  // the number of arguments pushed after it (0). Runs protected; may raise.
  virtual int push(lua_State* co) const = 0;
  // The Lua state the function lives in (its Scheduler runs it).
  virtual lua_State* state() const = 0;
};

struct TaskSpec {
  enum class Kind { function, service };
  Kind kind = Kind::function;
  std::string name;      // the task's name, or the scheduled service's
  std::string schedule_text;  // "every 1h", "cron '0 3 * * *'": the same text is the same schedule
  double timeout = 0;    // a task's run is cancelled after this many seconds; 0 = never
  std::string source_file;
  int source_line = 0;
  std::shared_ptr<const TaskSchedule> schedule;
  std::shared_ptr<const TaskFunction> function;  // Kind::function only
  // The scheduler of the function's Lua state (set by app::StackTasks);
  // declared after `function`, whose state must outlive it.
  std::shared_ptr<Scheduler> scheduler;

  // "task backup" or the service's name: how the log names it.
  [[nodiscard]] std::string label() const { return kind == Kind::function ? "task " + name : name; }
};

}  // namespace luvsup::runbook
