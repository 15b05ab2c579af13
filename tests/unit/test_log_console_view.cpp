// Tests the terminal view: foreman-style prefixes, and that a terminal that
// does not keep up costs dropped lines, never a blocked loop.
#include "log/console_view.hpp"
#include "log/service_output.hpp"
#include "test_log_support.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>

using namespace luvsup;
using namespace luvsup::log;
using namespace luvsup::log::test;

TEST_CASE("console lines carry the service name padded to the widest name so far") {
  Loop loop;
  TestPipe p;
  {
    ConsoleView console(loop.get(), p.w, false);
    console.line("web", "listening", false);
    console.line("cache", "ready", true);
    console.line("web", std::string("raw\0bytes", 9), false);
  }
  CHECK(p.read_now() ==
        "web | listening\ncache | ready\nweb   | " + std::string("raw\0bytes", 9) + "\n");
}

TEST_CASE("console colours wrap the prefix only") {
  Loop loop;
  TestPipe p;
  {
    ConsoleView console(loop.get(), p.w, true);
    console.line("web", "hello", false);
  }
  const std::string text = p.read_now();
  CHECK(text.rfind("\x1b[", 0) == 0);
  CHECK(text.find("web |\x1b[0m hello\n") != std::string::npos);
}

TEST_CASE("a console nobody reads never blocks: lines are dropped, counted and announced") {
  Loop loop;
  TestPipe p;
  ConsoleView console(loop.get(), p.w, false);
  const std::string payload(200, 'x');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) { // 4 MB against a 64 KiB pipe
    console.line("svc", payload, false);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(console.dropped_lines() > 0);
  CHECK(console.backlog() <= ConsoleView::k_backlog_limit);
  // The original descriptor stays blocking: only luvsup's private copy is not.
  CHECK((::fcntl(p.w, F_GETFL) & O_NONBLOCK) == 0);
  // Once the terminal reads again the backlog drains and the drop is announced.
  std::string seen;
  REQUIRE(loop.run_until([&] {
    seen += p.read_now();
    return seen.find(" lines dropped (terminal too slow)\n") != std::string::npos;
  }));
  CHECK(seen.find("luvsup: " + std::to_string(console.dropped_lines()) + " lines dropped") !=
        std::string::npos);
  CHECK(console.backlog() == 0);
}

TEST_CASE("service output shows each line on the console as well as in the log") {
  TempDir dir;
  Loop loop;
  TestPipe console_pipe;
  ConsoleView console(loop.get(), console_pipe.w, false);
  core::LogSpec spec;
  spec.file = dir.path("svc.log");
  ServiceOutput out(loop.get(), "svc", spec, &console);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  out.attach(fds[0], -1);
  write_all(fds[1], "one\ntwo\n");
  ::close(fds[1]);
  REQUIRE(loop.run_until([&] { return !out.capturing(); }));
  CHECK(console_pipe.read_now() == "svc | one\nsvc | two\n");
  bool flushed = false;
  out.flush([&] { flushed = true; });
  REQUIRE(loop.run_until([&] { return flushed; }));
}
