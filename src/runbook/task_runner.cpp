#include "runbook/task_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <exception>

namespace luvsup::runbook {

namespace {

// Local wall time for the log: "03:00:00" today, "2026-03-10 03:00:00" otherwise.
std::string local_time(double wall, double today) {
  const auto t = static_cast<std::time_t>(wall);
  const auto now = static_cast<std::time_t>(today);
  std::tm tm{};
  std::tm now_tm{};
  ::localtime_r(&t, &tm);
  ::localtime_r(&now, &now_tm);
  char buf[32];
  const bool same_day = tm.tm_year == now_tm.tm_year && tm.tm_yday == now_tm.tm_yday;
  std::strftime(buf, sizeof buf, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

struct TaskRunner::Entry {
  TaskSpec spec;
  std::unique_ptr<core::Timer> timer;
  double due = 0;         // wall time of the next run; 0 = none
  double started = 0;     // wall time the run in flight started (ours)
  // A function task's run. It is released at the next run rather than in its
  // own `done` callback, which the scheduler is still inside.
  std::unique_ptr<RunHandle> run;
  bool in_flight = false;
};

TaskRunner::TaskRunner(core::Platform& platform, TaskActions actions)
    : m_platform(platform), m_actions(std::move(actions)) {}

TaskRunner::~TaskRunner() = default;

void TaskRunner::apply(std::vector<TaskSpec> tasks) {
  std::map<Key, std::unique_ptr<Entry>> next;
  for (TaskSpec& spec : tasks) {
    Key key{spec.kind, spec.name};
    auto found = m_entries.find(key);
    if (found != m_entries.end() && found->second->spec.schedule_text == spec.schedule_text) {
      found->second->spec = std::move(spec);  // the timer keeps going; the next run uses the new definition
      next.emplace(key, std::move(found->second));
      m_entries.erase(found);
      continue;
    }
    std::unique_ptr<Entry> entry;
    if (found != m_entries.end()) {
      entry = std::move(found->second);  // a changed schedule: keep a run in flight, re-arm
      m_entries.erase(found);
      spdlog::info("{}: schedule changed to {}", spec.label(), spec.schedule_text);
    } else {
      entry = std::make_unique<Entry>();
      entry->timer = m_platform.make_timer();
    }
    entry->spec = std::move(spec);
    Entry& armed = *entry;
    next.emplace(key, std::move(entry));
    arm(armed);
  }
  for (auto& [key, entry] : m_entries) {
    if (entry->in_flight) {
      spdlog::info("{}: removed from the stack; its run in flight is cancelled", entry->spec.label());
    }
  }
  m_entries = std::move(next);  // the removed entries go: their timers stop, their runs are cancelled
}

void TaskRunner::stop_all() { m_entries.clear(); }

double TaskRunner::due(TaskSpec::Kind kind, const std::string& name) const {
  auto found = m_entries.find(Key{kind, name});
  return found == m_entries.end() ? 0 : found->second->due;
}

bool TaskRunner::running(TaskSpec::Kind kind, const std::string& name) const {
  auto found = m_entries.find(Key{kind, name});
  return found != m_entries.end() && found->second->in_flight;
}

void TaskRunner::arm(Entry& entry) {
  const double wall = m_platform.wall_now();
  std::string error;
  const auto next = entry.spec.schedule->next_after(wall, error);
  entry.timer->stop();
  if (!next) {
    entry.due = 0;
    spdlog::error("{}: no further run: {}", entry.spec.label(), error);
    return;
  }
  entry.due = *next;
  spdlog::info("{}: {}, next run at {}", entry.spec.label(), entry.spec.schedule_text,
               local_time(entry.due, wall));
  sleep(entry, wall);
}

void TaskRunner::sleep(Entry& entry, double wall) {
  const double delay = std::clamp(entry.due - wall, 0.0, k_max_sleep);
  entry.timer->start(delay, [this, &entry] {
    try {
      on_timer(entry);
    } catch (const std::exception& e) {
      // No exception may escape a loop callback; the task waits for the next check.
      spdlog::error("{}: {}", entry.spec.label(), e.what());
      entry.timer->start(k_max_sleep, [this, &entry] { arm(entry); });
    }
  });
}

void TaskRunner::on_timer(Entry& entry) {
  const double wall = m_platform.wall_now();
  std::string error;
  if (wall + k_slack < entry.due) {
    // Early: a periodic look at the wall clock, or the clock went back. When
    // the schedule now comes sooner (a clock set back by hours), follow it.
    if (const auto sooner = entry.spec.schedule->next_after(wall, error); sooner && *sooner < entry.due) {
      entry.due = *sooner;
    }
    sleep(entry, wall);
    return;
  }
  // Due or late (a suspend, a clock set forward): one run, then the next
  // after the present, never a burst of the runs missed.
  fire(entry, wall);
  const auto next = entry.spec.schedule->next_after(std::max(wall, entry.due), error);
  if (!next) {
    entry.due = 0;
    spdlog::error("{}: no further run: {}", entry.spec.label(), error);
    return;
  }
  entry.due = *next;
  sleep(entry, wall);
}

void TaskRunner::fire(Entry& entry, double wall) {
  const TaskSpec& spec = entry.spec;
  const bool busy = spec.kind == TaskSpec::Kind::function ? entry.in_flight : m_actions.service_busy(spec.name);
  if (busy) {
    if (entry.started > 0) {
      spdlog::warn("{}: still running since {}; skipped this run", spec.label(), local_time(entry.started, wall));
    } else {
      spdlog::warn("{}: still running; skipped this run", spec.label());
    }
    return;
  }
  entry.started = wall;
  if (spec.kind == TaskSpec::Kind::service) {
    spdlog::info("{}: scheduled start ({})", spec.label(), spec.schedule_text);
    if (const std::string why = m_actions.start_service(spec.name); !why.empty()) {
      spdlog::warn("{}: scheduled start failed: {}", spec.label(), why);
    }
    return;
  }
  spdlog::info("{}: started ({})", spec.label(), spec.schedule_text);
  entry.run.reset();
  entry.in_flight = true;
  entry.run = m_actions.run(spec, [this, &entry](RunOutcome outcome) {
    entry.in_flight = false;
    if (outcome.status == RunOutcome::Status::returned) {
      spdlog::info("{}: finished in {:.1f}s", entry.spec.label(), m_platform.wall_now() - entry.started);
    }
    entry.started = 0;
  });
  if (!entry.run) {
    entry.in_flight = false;
    entry.started = 0;
  }
}

}  // namespace luvsup::runbook
