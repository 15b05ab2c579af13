// Runs a stack's tasks and scheduled oneshot services on their schedules.
//
// Each task has a Platform timer armed for its next run, computed from the
// wall clock. The timer runs on the monotonic clock, which ignores clock
// changes and stops during a suspend, so it never sleeps longer than
// k_max_sleep: each time it fires, the runner reads the wall clock again.
// Woken early (the clock went back, or a periodic check), it re-arms, and
// moves the run earlier when the schedule now says so; woken at or past the
// due time it runs once and computes the next run from the present, so runs
// missed during a suspend or a clock jump are never made up in a burst. A run
// due while the previous one is still going is skipped with a log line.
//
// apply() takes the tasks of each (re)load: an entry whose schedule text is
// unchanged keeps its timer (and uses the new definition from its next run),
// a changed schedule is re-armed, and a removed task is dropped, which
// cancels its run in flight.
#pragma once

#include "core/platform.hpp"
#include "runbook/scheduler.hpp"
#include "runbook/task_spec.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace luvsup::runbook {

// What a run does; the glue (app/task_glue.cpp) binds these to the
// Scheduler and the Supervisor, tests to fakes.
struct TaskActions {
  // Starts one run of a task's function; null when it could not start (then
  // it logged why). `done` runs once from a loop callback unless the handle
  // is destroyed first.
  std::function<std::unique_ptr<RunHandle>(const TaskSpec& task, std::function<void(RunOutcome)> done)> run;
  // Whether the scheduled service's previous run is still going (starting,
  // running, stopping, backing off).
  std::function<bool(const std::string& service)> service_busy;
  // Starts the service; "" or why it could not.
  std::function<std::string(const std::string& service)> start_service;
};

class TaskRunner {
public:
  // The longest the timer sleeps before it looks at the wall clock again.
  static constexpr double k_max_sleep = 60.0;
  // A timer that fires this close before the due time counts as on time.
  static constexpr double k_slack = 0.01;

  TaskRunner(core::Platform& platform, TaskActions actions);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // Takes the tasks of a load (the first or a reload), in declaration order.
  void apply(std::vector<TaskSpec> tasks);
  // Drops every task and cancels every run in flight (luvsup is stopping).
  void stop_all();

  // For tests and status: the wall time a task is due next (0 when it has
  // no further run or is unknown), and whether its run is in flight.
  [[nodiscard]] double due(TaskSpec::Kind kind, const std::string& name) const;
  [[nodiscard]] bool running(TaskSpec::Kind kind, const std::string& name) const;
  [[nodiscard]] size_t size() const { return m_entries.size(); }

private:
  struct Entry;
  using Key = std::pair<TaskSpec::Kind, std::string>;

  void arm(Entry& entry);
  void sleep(Entry& entry, double wall);
  void on_timer(Entry& entry);
  void fire(Entry& entry, double wall);

  core::Platform& m_platform;
  TaskActions m_actions;
  std::map<Key, std::unique_ptr<Entry>> m_entries;
};

}  // namespace luvsup::runbook
