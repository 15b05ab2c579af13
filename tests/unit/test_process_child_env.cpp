// The environment a child starts with: the variables of luvsup's own manager
// never leak, and luvsup's protocol variables cannot be overridden by env.
#include "process/child_env.hpp"
#include "process/launch_spec.hpp"
#include "test_process_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

extern char** environ;  // NOLINT: POSIX

using namespace luvsup;
using namespace luvsup::process;

namespace {
constexpr const char* k_systemd_vars[] = {"NOTIFY_SOCKET",  "LISTEN_PID",   "LISTEN_FDS",
                                          "LISTEN_FDNAMES", "WATCHDOG_PID", "WATCHDOG_USEC"};

struct InheritedSystemdVars {
  InheritedSystemdVars() {
    for (const char* var : k_systemd_vars) {
      setenv(var, "from-luvsups-manager", 1);
    }
  }
  ~InheritedSystemdVars() {
    for (const char* var : k_systemd_vars) {
      unsetenv(var);
    }
  }
};
} // namespace

TEST_CASE("every systemd variable luvsup inherited is dropped from every child's environment") {
  InheritedSystemdVars inherited;
  const EnvList env = EnvList::inherited();
  for (const char* var : k_systemd_vars) {
    CHECK(is_dropped_variable(var));
    CHECK_FALSE(env.get(var).has_value());
  }
  CHECK_FALSE(is_dropped_variable("LISTEN"));
  CHECK_FALSE(is_dropped_variable("NOTIFY_SOCKET_X"));
  CHECK(env.get("PATH").has_value());
}

TEST_CASE("a child gets luvsup's own NOTIFY_SOCKET and WATCHDOG_USEC, whatever env says") {
  InheritedSystemdVars inherited;
  auto spec = test::make_spec({"env"});
  spec.env = {{"NOTIFY_SOCKET", "/elsewhere"}, {"OTHER", "kept"}};
  ChildContext ctx{"000000000000/svc", {}};
  ctx.supervisor_env = {{"NOTIFY_SOCKET", "/state/notify/svc.sock"}, {"WATCHDOG_USEC", "2000000"}};
  auto prepared = prepare_launch(spec, ctx);
  REQUIRE(std::holds_alternative<LaunchSpec>(prepared));
  auto launched = launch(std::get<LaunchSpec>(prepared), false);
  REQUIRE(std::holds_alternative<Launched>(launched));
  auto child = std::get<Launched>(launched);
  const std::string env = test::read_all(child.out_fd);
  test::wait_exit(child.pid);
  CHECK(env.find("NOTIFY_SOCKET=/state/notify/svc.sock\n") != std::string::npos);
  CHECK(env.find("/elsewhere") == std::string::npos);
  CHECK(env.find("WATCHDOG_USEC=2000000\n") != std::string::npos);
  CHECK(env.find("OTHER=kept\n") != std::string::npos);
  CHECK(env.find("from-luvsups-manager") == std::string::npos);
  CHECK(env.find("LISTEN_") == std::string::npos);
  CHECK(env.find("WATCHDOG_PID") == std::string::npos);
}

TEST_CASE("a name luvsup's environment holds twice reaches the child once, its last value in its first place") {
  char a1[] = "LUVSUP_TEST_A=1", b[] = "LUVSUP_TEST_B=2", a2[] = "LUVSUP_TEST_A=3", bad[] = "=x";
  char* fake[] = {a1, b, bad, a2, nullptr};
  char** saved = environ;
  environ = fake;
  const EnvList env = EnvList::inherited();
  environ = saved;
  CHECK(env.entries() == std::vector<std::string>{"LUVSUP_TEST_A=3", "LUVSUP_TEST_B=2"});
  CHECK(env.get("LUVSUP_TEST_A") == "3");
  CHECK_FALSE(env.get("LUVSUP_TEST").has_value());
}

TEST_CASE("a change to luvsup's environment reaches the next child, though the copy is kept between starts") {
  const EnvList before = EnvList::inherited();
  CHECK(EnvList::inherited().entries() == before.entries());
  REQUIRE(setenv("LUVSUP_TEST_LATER", "1", 1) == 0);
  CHECK(EnvList::inherited().get("LUVSUP_TEST_LATER") == "1");
  REQUIRE(setenv("LUVSUP_TEST_LATER", "2", 1) == 0);  // replaced, not added
  CHECK(EnvList::inherited().get("LUVSUP_TEST_LATER") == "2");
  REQUIRE(unsetenv("LUVSUP_TEST_LATER") == 0);
  CHECK(EnvList::inherited().entries() == before.entries());
}

TEST_CASE("setting a variable again replaces it in place, and get reads what was set") {
  EnvList env;
  env.set("A", "1");
  env.set("AB", "2");
  env.set("A", "x=y");
  env.set("EMPTY", "");
  CHECK(env.entries() == std::vector<std::string>{"A=x=y", "AB=2", "EMPTY="});
  CHECK(env.get("A") == "x=y");
  CHECK(env.get("AB") == "2");
  CHECK(env.get("EMPTY") == "");
  CHECK_FALSE(env.get("B").has_value());
}
