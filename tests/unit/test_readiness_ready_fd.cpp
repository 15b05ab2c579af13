// ReadyFd with real children: the s6 protocol through launch()'s InheritedFd.
#include "readiness/ready_fd.hpp"
#include "test_log_support.hpp"
#include "test_process_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>

using namespace luvsup;
using namespace luvsup::readiness;
using luvsup::log::test::Loop;

namespace {

std::unique_ptr<ReadyFd> open_ready(Loop& loop, int& ready_calls) {
  auto opened = ReadyFd::open(loop.get(), "svc", [&ready_calls] { ++ready_calls; });
  if (auto* error = std::get_if<std::string>(&opened)) {
    FAIL(*error);
  }
  return std::move(std::get<std::unique_ptr<ReadyFd>>(opened));
}

// Starts `script` under /bin/sh with the readiness pipe as descriptor `target`.
process::Launched start_with(ReadyFd& ready, const std::string& script, int target) {
  auto spec = process::test::make_spec({"/bin/sh", "-c", script});
  auto prepared = process::prepare_launch(spec, process::ChildContext{"000000000000/svc", {}});
  REQUIRE(std::holds_alternative<process::LaunchSpec>(prepared));
  auto launched = process::launch(std::get<process::LaunchSpec>(prepared), false, -1,
                                  process::InheritedFd{ready.write_end(), target});
  if (auto* error = std::get_if<process::LaunchError>(&launched)) {
    FAIL(error->message());
  }
  ready.close_write_end();
  return std::get<process::Launched>(launched);
}

} // namespace

TEST_CASE("a child writing a newline to its readiness descriptor makes it ready once") {
  Loop loop;
  int ready_calls = 0;
  auto ready = open_ready(loop, ready_calls);
  CHECK((::fcntl(ready->write_end(), F_GETFD) & FD_CLOEXEC) != 0); // no other child gets it
  auto child = start_with(*ready, "printf 'up' >&5; sleep 0.2; echo >&5; exec 5>&-; echo done", 5);
  REQUIRE(loop.run_until([&] { return ready_calls > 0; }));
  CHECK_FALSE(ready->watching());
  CHECK(process::test::read_all(child.out_fd) == "done\n");
  CHECK(process::test::wait_exit(child.pid).has_value());
  loop.run_until([] { return false; }, 0.05);
  CHECK(ready_calls == 1);
}

TEST_CASE("a child that exits without the newline is not ready, and the pipe is closed") {
  Loop loop;
  int ready_calls = 0;
  auto ready = open_ready(loop, ready_calls);
  auto child = start_with(*ready, "printf 'no newline' >&7", 7);
  CHECK(process::test::wait_exit(child.pid).has_value());
  ::close(child.out_fd);
  REQUIRE(loop.run_until([&] { return !ready->watching(); }));
  CHECK(ready_calls == 0);
}

TEST_CASE(
    "the readiness descriptor is open in the child under its number, and nothing else leaks") {
  Loop loop;
  int ready_calls = 0;
  auto ready = open_ready(loop, ready_calls);
  // A pipe of the launcher may sit right at the target number: it must be
  // moved out of the way, not overwritten.
  auto child = start_with(*ready, "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo >&3", 3);
  const std::string fds = process::test::read_all(child.out_fd);
  CHECK(process::test::wait_exit(child.pid).has_value());
  // 0 1 2, the readiness descriptor 3, and the descriptor ls reads its directory with.
  CHECK(fds.rfind("0 1 2 3 ", 0) == 0);
  CHECK(fds.size() <= std::string("0 1 2 3 4 ").size());
  REQUIRE(loop.run_until([&] { return ready_calls == 1; }));
}

TEST_CASE("a readiness descriptor number below 3 is refused before forking") {
  Loop loop;
  int ready_calls = 0;
  auto ready = open_ready(loop, ready_calls);
  auto spec = process::test::make_spec({"/bin/true"});
  auto prepared = process::prepare_launch(spec, process::ChildContext{"000000000000/svc", {}});
  REQUIRE(std::holds_alternative<process::LaunchSpec>(prepared));
  auto launched = process::launch(std::get<process::LaunchSpec>(prepared), false, -1,
                                  process::InheritedFd{ready->write_end(), 1});
  REQUIRE(std::holds_alternative<process::LaunchError>(launched));
  CHECK(std::get<process::LaunchError>(launched).message().find(
            "readiness pipe descriptor number 1 (use 3 or more)") != std::string::npos);
}

TEST_CASE("a readiness descriptor number beyond the file limit fails the launch, naming it") {
  Loop loop;
  int ready_calls = 0;
  auto ready = open_ready(loop, ready_calls);
  auto spec = process::test::make_spec({"/bin/true"});
  auto prepared = process::prepare_launch(spec, process::ChildContext{"000000000000/svc", {}});
  REQUIRE(std::holds_alternative<process::LaunchSpec>(prepared));
  auto launched = process::launch(std::get<process::LaunchSpec>(prepared), false, -1,
                                  process::InheritedFd{ready->write_end(), 1 << 30});
  REQUIRE(std::holds_alternative<process::LaunchError>(launched));
  CHECK(std::get<process::LaunchError>(launched).message().find(
            "give the readiness pipe descriptor number 1073741824") != std::string::npos);
}
