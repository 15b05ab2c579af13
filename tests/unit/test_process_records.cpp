#include "process/leftovers.hpp"
#include "process/pid_records.hpp"
#include "process/process_table.hpp"
#include "test_process_support.hpp"

#include <sys/prctl.h>

#include <filesystem>

using namespace luvsup;
using namespace luvsup::process;
using namespace luvsup::process::test;

TEST_CASE("pid records survive a save and load round trip") {
  TempDir dir;
  std::string state = dir / "state/deeper";
  PidRecords records(state);
  CHECK(records.load().empty());
  records.set({"web", 100, 100, 12345});
  records.set({"db worker", 200, 150, 67890});
  records.set({"web", 101, 101, 12346});  // replaces
  records.erase("missing");
  REQUIRE_FALSE(records.save().has_value());
  auto loaded = PidRecords(state).load();
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0] == PidRecord{"web", 101, 101, 12346});
  CHECK(loaded[1] == PidRecord{"db worker", 200, 150, 67890});

  struct stat st {};
  REQUIRE(stat(state.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  records.erase("web");
  REQUIRE_FALSE(records.save().has_value());
  CHECK(PidRecords(state).load() == std::vector<PidRecord>{{"db worker", 200, 150, 67890}});
}

TEST_CASE("a service's pid record is replaced in place, also after another was erased before it (the last taking its place)") {
  TempDir dir;
  PidRecords records(dir / "state");
  records.set({"a", 1, 1, 10});
  records.set({"b", 2, 2, 20});
  records.set({"c", 3, 3, 30});
  records.erase("a");
  records.set({"c", 4, 4, 40});
  records.set({"a", 5, 5, 50});
  CHECK(records.records() ==
        std::vector<PidRecord>{{"c", 4, 4, 40}, {"b", 2, 2, 20}, {"a", 5, 5, 50}});
  records.erase("a");  // the last one
  records.erase("missing");
  CHECK(records.records() == std::vector<PidRecord>{{"c", 4, 4, 40}, {"b", 2, 2, 20}});
}

TEST_CASE("a pid record without a start time gets the one /proc gives, and keeps one it has") {
  TempDir dir;
  PidRecords records(dir / "state");
  records.set({"self", getpid(), getpgrp(), 0});
  records.set({"known", 1, 1, 42});
  records.complete_start_times(process_start_time);
  REQUIRE(records.records().size() == 2);
  CHECK(records.records()[0].start_time == process_start_time(getpid()));
  CHECK(records.records()[0].start_time != 0);
  CHECK(records.records()[1].start_time == 42);
}

namespace {
uint64_t lookups_made = 0;
// A process that is gone at the first look and "back" (a reused pid) later.
uint64_t gone_then_reused(pid_t) { return lookups_made++ == 0 ? 0 : 777; }
} // namespace

TEST_CASE("a pid record's start time is looked up once, so a reused pid is not taken for it") {
  TempDir dir;
  PidRecords records(dir / "state");
  records.set({"quick", 4242, 4242, 0});
  records.complete_start_times(gone_then_reused);
  records.complete_start_times(gone_then_reused);
  CHECK(lookups_made == 1);
  CHECK(records.records()[0].start_time == 0);
  records.set({"quick", 4243, 4243, 0});  // a new spawn is looked up again
  records.complete_start_times(gone_then_reused);
  CHECK(records.records()[0].start_time == 777);
}

TEST_CASE("pid records are replaced atomically by rename, leaving no temporary file") {
  TempDir dir;
  PidRecords records(dir.path);
  records.set({"web", 100, 100, 1});
  REQUIRE_FALSE(records.save().has_value());
  struct stat before {};
  REQUIRE(stat(records.file_path().c_str(), &before) == 0);
  records.set({"web", 200, 200, 2});
  REQUIRE_FALSE(records.save().has_value());
  struct stat after {};
  REQUIRE(stat(records.file_path().c_str(), &after) == 0);
  CHECK(before.st_ino != after.st_ino);  // a new file renamed over, not rewritten in place
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path)) {
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("a pid record file that cannot be written is reported") {
  PidRecords records("/proc/luvsup-cannot-exist");
  records.set({"web", 1, 1, 1});
  auto error = records.save();
  REQUIRE(error.has_value());
  CHECK(error->starts_with("mkdir /proc/luvsup-cannot-exist"));
}

TEST_CASE("malformed pid record lines are skipped") {
  TempDir dir;
  std::ofstream(dir / "pids") << "garbage\n12 12 99 web\n-1 2 3 bad\n13 13 100\n";
  CHECK(PidRecords(dir.path).load() == std::vector<PidRecord>{{"web", 12, 12, 99}});
}

TEST_CASE("stop_leftovers kills a tagged orphan that ignores SIGTERM") {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  TempDir dir;
  // A tagged process of the stack, as a killed luvsup would have left it.
  Launched stubborn = start(make_spec({helper("ignore_term")}), "ccccccccccc3/worker");
  pollfd p{stubborn.out_fd, POLLIN, 0};
  REQUIRE(poll(&p, 1, 5000) == 1);  // "ready": SIGTERM is ignored from here on
  // And one of another stack, which must be left alone.
  Launched other = start(make_spec({"sleep", "60"}), "ddddddddddd4/worker");
  CHECK(stop_leftovers(dir / "state", "ccccccccccc3", 0.3) == 1);
  auto status = wait_exit(stubborn.pid);
  REQUIRE(status.has_value());
  CHECK(WTERMSIG(*status) == SIGKILL);
  CHECK(alive(other.pid));
  kill_and_reap(other.pid);
  close(stubborn.out_fd);
  close(other.out_fd);
}

TEST_CASE("stop_leftovers stops a recorded process group, untagged members included") {
  TempDir dir;
  // Built by hand so that nothing carries a tag: only the record finds them.
  LaunchSpec spec;
  spec.path = "/bin/sh";
  spec.argv = {"sh", "-c", "sleep 60 & sleep 61 & echo started; wait"};
  spec.env = {"PATH=/usr/bin:/bin"};
  auto child = std::get<Launched>(launch(spec, false));
  pollfd p{child.out_fd, POLLIN, 0};
  REQUIRE(poll(&p, 1, 5000) == 1);
  std::vector<pid_t> group;
  REQUIRE(wait_until([&] {
    group = service_processes("", child.pid, 0);
    return group.size() == 3;
  }));
  PidRecords records(dir.path);
  records.set({"db", child.pid, child.pid, process_start_time(child.pid)});
  REQUIRE_FALSE(records.save().has_value());

  CHECK(stop_leftovers(dir.path, "eeeeeeeeeee5", 5.0) == 3);
  auto status = wait_exit(child.pid);
  REQUIRE(status.has_value());
  CHECK(WIFSIGNALED(*status));
  CHECK(wait_until([&] { return service_processes("", child.pid, 0).empty(); }));
  close(child.out_fd);
}

TEST_CASE("stop_leftovers ignores a record whose start time does not match (pid reuse)") {
  TempDir dir;
  LaunchSpec spec;
  spec.path = "/bin/sleep";
  spec.argv = {"sleep", "60"};
  auto child = std::get<Launched>(launch(spec, false));
  PidRecords records(dir.path);
  records.set({"db", child.pid, child.pid, process_start_time(child.pid) + 1});
  REQUIRE_FALSE(records.save().has_value());
  CHECK(stop_leftovers(dir.path, "fffffffffff6", 0.2) == 0);
  CHECK(alive(child.pid));
  kill_and_reap(child.pid);
  close(child.out_fd);
}

TEST_CASE("stop_leftovers finds nothing in an empty state directory") {
  TempDir dir;
  CHECK(stop_leftovers(dir / "none", "0f0f0f0f0f0f", 0.1) == 0);
}
