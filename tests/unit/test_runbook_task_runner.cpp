// runbook::TaskRunner on the fake clock: runs on schedule, skips while the
// previous run goes, follows the wall clock through jumps and suspends, and
// keeps, re-arms or cancels tasks on a reload.
#include "runbook/task_runner.hpp"

#include "support/fake_platform.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using luvsup::runbook::RunHandle;
using luvsup::runbook::RunOutcome;
using luvsup::runbook::TaskActions;
using luvsup::runbook::TaskRunner;
using luvsup::runbook::TaskSchedule;
using luvsup::runbook::TaskSpec;

namespace {

// Every `period` seconds after the given time.
struct Every final : TaskSchedule {
  explicit Every(double p) : period(p) {}
  std::optional<double> next_after(double wall, std::string&) const override { return wall + period; }
  double period;
};

// At every whole multiple of `step` seconds of the wall clock (like a cron
// minute or day boundary).
struct Aligned final : TaskSchedule {
  explicit Aligned(double s) : step(s) {}
  std::optional<double> next_after(double wall, std::string&) const override {
    return (std::floor(wall / step) + 1) * step;
  }
  double step;
};

struct Never final : TaskSchedule {
  std::optional<double> next_after(double, std::string& error) const override {
    error = "no such day";
    return std::nullopt;
  }
};

// A run the test finishes by hand; destroying its handle cancels it.
struct FakeRun {
  std::string task;
  double wall = 0;  // when it started
  std::function<void(RunOutcome)> done;
  bool cancelled = false;
  bool finished = false;
};

struct FakeHandle final : RunHandle {
  explicit FakeHandle(std::shared_ptr<FakeRun> r) : run(std::move(r)) {}
  ~FakeHandle() override {
    if (!run->finished) {
      run->cancelled = true;
    }
  }
  std::shared_ptr<FakeRun> run;
};

struct Fixture {
  luvsup::test::FakePlatform platform;
  std::vector<std::shared_ptr<FakeRun>> runs;
  std::vector<std::string> service_starts;
  bool service_busy = false;
  TaskRunner runner{platform, TaskActions{
                                  [this](const TaskSpec& task, std::function<void(RunOutcome)> done) {
                                    runs.push_back(std::make_shared<FakeRun>(
                                        FakeRun{task.name, platform.wall_now(), std::move(done)}));
                                    return std::make_unique<FakeHandle>(runs.back());
                                  },
                                  [this](const std::string&) { return service_busy; },
                                  [this](const std::string& name) {
                                    service_starts.push_back(name);
                                    return std::string();
                                  }}};

  static TaskSpec task(const std::string& name, std::shared_ptr<const TaskSchedule> schedule,
                       const std::string& text, TaskSpec::Kind kind = TaskSpec::Kind::function) {
    TaskSpec spec;
    spec.kind = kind;
    spec.name = name;
    spec.schedule_text = text;
    spec.schedule = std::move(schedule);
    return spec;
  }

  void finish_last() {
    REQUIRE(!runs.empty());
    runs.back()->finished = true;
    runs.back()->done(RunOutcome{});
  }
};

std::vector<TaskSpec> one(TaskSpec spec) {
  std::vector<TaskSpec> v;
  v.push_back(std::move(spec));
  return v;
}

}  // namespace

TEST_CASE("a task runs once per period") {
  Fixture f;
  f.runner.apply(one(Fixture::task("tick", std::make_shared<Every>(10), "every 10s")));
  CHECK(f.runner.due(TaskSpec::Kind::function, "tick") == doctest::Approx(f.platform.wall_now() + 10));
  f.platform.advance(9.9);
  CHECK(f.runs.empty());
  f.platform.advance(0.1);
  REQUIRE(f.runs.size() == 1);
  CHECK(f.runner.running(TaskSpec::Kind::function, "tick"));
  f.finish_last();
  CHECK_FALSE(f.runner.running(TaskSpec::Kind::function, "tick"));
  f.platform.advance(10);
  CHECK(f.runs.size() == 2);
  f.finish_last();
  for (int i = 0; i < 3; ++i) {
    f.platform.advance(10);
    f.finish_last();
  }
  CHECK(f.runs.size() == 5);
}

TEST_CASE("a run due while the previous one is going is skipped, not queued") {
  Fixture f;
  f.runner.apply(one(Fixture::task("backup", std::make_shared<Every>(10), "every 10s")));
  f.platform.advance(10);
  REQUIRE(f.runs.size() == 1);
  f.platform.advance(35);  // three more runs fall due: all skipped
  CHECK(f.runs.size() == 1);
  f.finish_last();
  f.platform.advance(4.9);
  CHECK(f.runs.size() == 1);  // the next run comes on schedule, not at once
  f.platform.advance(0.1);
  CHECK(f.runs.size() == 2);
}

TEST_CASE("a long period is slept in steps that look at the wall clock") {
  Fixture f;
  f.runner.apply(one(Fixture::task("nightly", std::make_shared<Every>(3600), "every 1h")));
  f.platform.advance(3599);
  CHECK(f.runs.empty());
  f.platform.advance(1);
  CHECK(f.runs.size() == 1);
}

TEST_CASE("a wall clock set forward runs the missed run once, never a burst") {
  Fixture f;
  f.runner.apply(one(Fixture::task("minutely", std::make_shared<Aligned>(60), "cron '* * * * *'")));
  f.platform.advance(60);
  REQUIRE(f.runs.size() == 1);
  f.finish_last();
  const double before = f.platform.wall_now();
  f.platform.wall_offset += 3 * 3600;  // three hours later on the wall: 180 runs were missed
  f.platform.advance(TaskRunner::k_max_sleep);
  REQUIRE(f.runs.size() == 2);
  f.finish_last();
  // From now on it follows the new wall time, one run a minute.
  const double next = f.runner.due(TaskSpec::Kind::function, "minutely");
  CHECK(next > before + 3 * 3600);
  CHECK(std::fmod(next, 60) == doctest::Approx(0));
  f.platform.advance(60);
  CHECK(f.runs.size() == 3);
}

TEST_CASE("a wall clock set back never runs a task early") {
  Fixture f;
  f.runner.apply(one(Fixture::task("daily", std::make_shared<Aligned>(86400), "cron '0 0 * * *'")));
  const double due = f.runner.due(TaskSpec::Kind::function, "daily");
  const double wait = due - f.platform.wall_now();
  f.platform.wall_offset -= 600;  // the clock goes back ten minutes
  f.platform.advance(wait);       // the monotonic time of the old due time
  CHECK(f.runs.empty());
  CHECK(f.runner.due(TaskSpec::Kind::function, "daily") == doctest::Approx(due));
  f.platform.advance(599);
  CHECK(f.runs.empty());
  f.platform.advance(1 + TaskRunner::k_slack);
  REQUIRE(f.runs.size() == 1);
  CHECK(f.runs[0]->wall >= due - TaskRunner::k_slack);
}

TEST_CASE("a wall clock set back by a long way follows the schedule's sooner run") {
  Fixture f;
  f.runner.apply(one(Fixture::task("tick", std::make_shared<Every>(600), "every 10m")));
  f.platform.wall_offset -= 86400;  // a day back: the old due time is a day and 10 minutes away
  f.platform.advance(TaskRunner::k_max_sleep);
  CHECK(f.runner.due(TaskSpec::Kind::function, "tick") == doctest::Approx(f.platform.wall_now() + 600));
  f.platform.advance(600);
  CHECK(f.runs.size() == 1);
}

TEST_CASE("a suspend that stops the monotonic clock is noticed at the next look") {
  Fixture f;
  f.runner.apply(one(Fixture::task("hourly", std::make_shared<Aligned>(3600), "cron '0 * * * *'")));
  f.platform.advance(1);
  f.platform.wall_offset += 5 * 3600;  // suspended for five hours: the wall went on, the timers did not
  f.platform.advance(TaskRunner::k_max_sleep);
  CHECK(f.runs.size() == 1);
}

TEST_CASE("a schedule without a further run arms nothing") {
  Fixture f;
  f.runner.apply(one(Fixture::task("never", std::make_shared<Never>(), "cron '0 0 30 2 1'")));
  CHECK(f.runner.due(TaskSpec::Kind::function, "never") == 0);
  f.platform.advance(86400);
  CHECK(f.runs.empty());
}

TEST_CASE("a scheduled service is started on schedule and skipped while busy") {
  Fixture f;
  f.runner.apply(one(Fixture::task("report", std::make_shared<Every>(10), "every 10s", TaskSpec::Kind::service)));
  f.platform.advance(10);
  CHECK(f.service_starts == std::vector<std::string>{"report"});
  f.service_busy = true;
  f.platform.advance(10);
  CHECK(f.service_starts.size() == 1);
  f.service_busy = false;
  f.platform.advance(10);
  CHECK(f.service_starts.size() == 2);
  CHECK(f.runs.empty());
}

TEST_CASE("a reload keeps an unchanged schedule's timer and run, re-arms a changed one") {
  Fixture f;
  std::vector<TaskSpec> first;
  first.push_back(Fixture::task("keep", std::make_shared<Every>(10), "every 10s"));
  first.push_back(Fixture::task("change", std::make_shared<Every>(10), "every 10s"));
  f.runner.apply(std::move(first));
  f.platform.advance(10);
  REQUIRE(f.runs.size() == 2);
  f.platform.advance(4);
  const double keep_due = f.runner.due(TaskSpec::Kind::function, "keep");
  std::vector<TaskSpec> second;
  second.push_back(Fixture::task("keep", std::make_shared<Every>(10), "every 10s"));
  second.push_back(Fixture::task("change", std::make_shared<Every>(100), "every 100s"));
  f.runner.apply(std::move(second));
  CHECK(f.runner.due(TaskSpec::Kind::function, "keep") == keep_due);
  CHECK(f.runner.due(TaskSpec::Kind::function, "change") == doctest::Approx(f.platform.wall_now() + 100));
  CHECK_FALSE(f.runs[0]->cancelled);
  CHECK_FALSE(f.runs[1]->cancelled);
  CHECK(f.runner.running(TaskSpec::Kind::function, "keep"));
  CHECK(f.runner.running(TaskSpec::Kind::function, "change"));
}

TEST_CASE("a reload that removes a task cancels its run in flight") {
  Fixture f;
  f.runner.apply(one(Fixture::task("gone", std::make_shared<Every>(10), "every 10s")));
  f.platform.advance(10);
  REQUIRE(f.runs.size() == 1);
  f.runner.apply({});
  CHECK(f.runs[0]->cancelled);
  CHECK(f.runner.size() == 0);
  f.platform.advance(100);
  CHECK(f.runs.size() == 1);
}

TEST_CASE("stop_all cancels every run and timer") {
  Fixture f;
  f.runner.apply(one(Fixture::task("t", std::make_shared<Every>(5), "every 5s")));
  f.platform.advance(5);
  f.runner.stop_all();
  CHECK(f.runs[0]->cancelled);
  f.platform.advance(100);
  CHECK(f.runs.size() == 1);
}
