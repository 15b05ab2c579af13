#include "process/fd_limit.hpp"
#include "process/process_table.hpp"
#include "process/stack_hash.hpp"
#include "test_process_support.hpp"

#include <sys/prctl.h>

#include <algorithm>

using namespace luvsup;
using namespace luvsup::process;
using namespace luvsup::process::test;

namespace {
bool contains(const std::vector<pid_t>& pids, pid_t pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}
}  // namespace

TEST_CASE("a stack hash is 12 lowercase hex characters and depends on the path") {
  std::string a = stack_hash("/srv/app/stack.lua");
  CHECK(a.size() == 12);
  CHECK(std::all_of(a.begin(), a.end(), [](char c) { return std::isxdigit(c) && !std::isupper(c); }));
  CHECK(a == stack_hash("/srv/app/stack.lua"));
  CHECK(a != stack_hash("/srv/other/stack.lua"));
  CHECK(stack_hash("") == "cbf29ce48422");  // the FNV-1a 64 offset basis
}

TEST_CASE("a process's start time is read from /proc and is 0 once it is gone") {
  CHECK(process_start_time(getpid()) > 0);
  auto self = read_process(getpid());
  REQUIRE(self.has_value());
  CHECK(self->ppid == getppid());
  CHECK(self->pgid == getpgrp());
  CHECK(self->sid == getsid(0));
  Launched child = start(make_spec({"true"}));
  read_all(child.out_fd);
  wait_exit(child.pid);
  CHECK(process_start_time(child.pid) == 0);
}

TEST_CASE("service_processes finds a setsid'd grandchild by its tag") {
  prctl(PR_SET_CHILD_SUBREAPER, 1);  // so the orphan stays ours to reap
  TempDir dir;
  Launched daemon = start(make_spec({helper("double_fork"), dir / "pid"}), "aaaaaaaaaaa1/web");
  close(daemon.out_fd);
  REQUIRE(wait_exit(daemon.pid).has_value());
  pid_t grandchild = read_pid_file(dir / "pid");
  REQUIRE(grandchild > 0);
  CHECK(service_tag(grandchild) == "aaaaaaaaaaa1/web");
  auto info = read_process(grandchild);
  REQUIRE(info.has_value());
  CHECK(info->sid != daemon.pid);  // left the service's session and group
  CHECK(info->pgid != daemon.pid);

  auto found = service_processes("aaaaaaaaaaa1/web", daemon.pid, 0);
  CHECK(contains(found, grandchild));
  CHECK_FALSE(contains(found, getpid()));
  CHECK(service_processes("aaaaaaaaaaa1/other", 0, 0).empty());

  auto stack = stack_processes("aaaaaaaaaaa1");
  CHECK(stack == std::vector<pid_t>{grandchild});
  CHECK(stack_processes("aaaaaaaaaaa").empty());  // the prefix ends at '/'
  kill_and_reap(grandchild);
  CHECK(stack_processes("aaaaaaaaaaa1").empty());
}

TEST_CASE("a tagged zombie is no leftover of its stack") {
  Launched child = start(make_spec({"/bin/sh", "-c", "exit 0"}), "bbbbbbbbbbb1/gone");
  close(child.out_fd);
  REQUIRE(wait_until([&] {
    auto info = read_process(child.pid);
    return info && info->state == 'Z';
  }));
  CHECK(stack_processes("bbbbbbbbbbb1").empty());
  REQUIRE(wait_exit(child.pid).has_value());
}

TEST_CASE("service_processes finds the process group and the descendants of the main pid") {
  // The shell's children stay in its group; `setsid` moves one out, but it is
  // still a descendant of the main pid.
  Launched child = start(make_spec({"/bin/sh", "-c", "sleep 60 & setsid sleep 61 & echo started; wait"}),
                         "bbbbbbbbbbb2/job");
  pollfd p{child.out_fd, POLLIN, 0};
  REQUIRE(poll(&p, 1, 5000) == 1);
  // Untagged view: only the group and parent links can find them.
  std::vector<pid_t> found;
  CHECK(wait_until([&] {
    found = service_processes("", child.pid, child.pid);
    return found.size() == 3;
  }));
  CHECK(contains(found, child.pid));
  CHECK(service_processes("", 0, 0).empty());
  signal_group(child.pid, SIGKILL);
  signal_all(found, SIGKILL);
  CHECK(wait_exit(child.pid).has_value());
  close(child.out_fd);
  CHECK(wait_until([&] { return service_processes("bbbbbbbbbbb2/job", 0, 0).empty(); }));
}

TEST_CASE("signal_all and signal_group never signal luvsup itself") {
  signal_all({getpid(), 0, 1, -1}, SIGKILL);  // we would not be here otherwise
  CHECK_FALSE(signal_group(getpgrp(), SIGKILL));
  CHECK_FALSE(signal_group(1, SIGKILL));
  CHECK_FALSE(signal_group(0, SIGKILL));
}

TEST_CASE("luvsup's children are listed from /proc") {
  Launched child = start(make_spec({"sleep", "30"}));
  CHECK(contains(own_children(), child.pid));
  kill_and_reap(child.pid);
  close(child.out_fd);
  CHECK_FALSE(contains(own_children(), child.pid));
}

TEST_CASE("the open-file limit is raised to the hard limit and the original is returned") {
  rlimit before{};
  getrlimit(RLIMIT_NOFILE, &before);
  rlimit lowered = before;
  lowered.rlim_cur = std::min<rlim_t>(before.rlim_max, 256);
  setrlimit(RLIMIT_NOFILE, &lowered);
  auto original = raise_open_file_limit();
  REQUIRE(original.size() == 1);
  CHECK(original[0].resource == RLIMIT_NOFILE);
  CHECK(original[0].soft == lowered.rlim_cur);
  CHECK(original[0].hard == before.rlim_max);
  rlimit now{};
  getrlimit(RLIMIT_NOFILE, &now);
  CHECK(now.rlim_cur == before.rlim_max);
  setrlimit(RLIMIT_NOFILE, &before);
}
