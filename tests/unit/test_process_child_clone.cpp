#include "process/child_clone.hpp"
#include "test_process_support.hpp"

#include <fcntl.h>

#include <string>
#include <vector>

using namespace luvsup::process;
using namespace luvsup::process::test;

namespace {

// A plan for `path` with stdout and stderr on `out` and nothing else set.
struct PlanFor {
  explicit PlanFor(const char* path, int out) : argv{const_cast<char*>(path), nullptr} {
    plan.path = path;
    plan.argv = argv;
    plan.envp = envp;
    plan.stdin_path = "/dev/null";
    plan.out_fd = out;
  }
  char* argv[2];
  char* envp[1] = {nullptr};
  ChildPlan plan;
};

using Start = pid_t (*)(const ChildPlan&, int, ChildFailure&);

// Starts `plan` with `start`, returns the failure it reported, reaps the child.
ChildFailure failure_of(Start start, const ChildPlan& plan) {
  ChildFailure failure{99, 99, 99};
  const pid_t pid = start(plan, -1, failure);
  REQUIRE(pid > 0);
  REQUIRE(wait_exit(pid).has_value());
  return failure;
}

}  // namespace

TEST_CASE("a child names the step that failed and its errno, with or without luvsup's memory") {
  for (Start start : {&clone_child, &fork_child}) {
    int out[2];
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    PlanFor missing("/nonexistent/luvsup-nope", out[1]);
    auto failure = failure_of(start, missing.plan);
    CHECK(failure.step == static_cast<int>(ChildStep::exec));
    CHECK(failure.err == ENOENT);

    PlanFor bad_cwd("/bin/true", out[1]);
    bad_cwd.plan.cwd = "/nonexistent/luvsup-dir";
    failure = failure_of(start, bad_cwd.plan);
    CHECK(failure.step == static_cast<int>(ChildStep::chdir));
    CHECK(failure.err == ENOENT);

    PlanFor bad_stdin("/bin/true", out[1]);
    bad_stdin.plan.stdin_path = "/nonexistent/input";
    failure = failure_of(start, bad_stdin.plan);
    CHECK(failure.step == static_cast<int>(ChildStep::open_stdin));
    CHECK(failure.err == ENOENT);

    PlanFor fine("/bin/true", out[1]);
    failure = failure_of(start, fine.plan);
    CHECK(failure.step == 0);
    close(out[0]);
    close(out[1]);
  }
}

TEST_CASE("a forked child keeps its report pipe when the readiness descriptor takes its number") {
  int out[2], ready[2];
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(pipe2(ready, O_CLOEXEC) == 0);
  // fork_child's report pipe gets the lowest free numbers: make the readiness
  // target one of them, then let the exec fail so that the report must arrive.
  int probe[2];
  REQUIRE(pipe2(probe, O_CLOEXEC) == 0);
  const int target = probe[1];
  close(probe[0]);
  close(probe[1]);
  PlanFor missing("/nonexistent/luvsup-nope", out[1]);
  missing.plan.ready_fd = ready[1];
  missing.plan.ready_target = target;
  auto failure = failure_of(&fork_child, missing.plan);
  CHECK(failure.step == static_cast<int>(ChildStep::exec));
  CHECK(failure.err == ENOENT);
  for (int fd : {out[0], out[1], ready[0], ready[1]}) {
    close(fd);
  }
}
