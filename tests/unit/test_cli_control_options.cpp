#include "cli/options.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace luvsup;

namespace {

std::variant<cli::Options, cli::UsageError> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "luvsup");
  return cli::parse_options(static_cast<int>(args.size()), const_cast<char**>(args.data()));
}

cli::ControlArgs control(std::vector<const char*> args) {
  auto parsed = parse(std::move(args));
  if (auto* error = std::get_if<cli::UsageError>(&parsed)) {
    FAIL("unexpected usage error: " << error->message);
  }
  const auto& options = std::get<cli::Options>(parsed);
  CHECK(options.command == cli::Command::control);
  return options.control;
}

std::string usage_error(std::vector<const char*> args) {
  auto parsed = parse(std::move(args));
  REQUIRE(std::holds_alternative<cli::UsageError>(parsed));
  return std::get<cli::UsageError>(parsed).message;
}

} // namespace

TEST_CASE("status takes names, --json, a socket and a stack file") {
  const auto args = control({"status", "web", "--json", "-s", "/run/x.sock", "-f", "other.lua"});
  CHECK(args.command == "status");
  CHECK(args.names == std::vector<std::string>{"web"});
  CHECK(args.json);
  CHECK(args.socket == "/run/x.sock");
  CHECK(args.stack_file == "other.lua");
}

TEST_CASE("start, stop and restart need names or --all") {
  CHECK(control({"stop", "--all"}).all);
  CHECK(control({"restart", "a", "b"}).names.size() == 2);
  CHECK(usage_error({"stop"}) == "stop needs service names or --all");
  CHECK(usage_error({"start", "--all", "web"}) == "start needs service names or --all");
}

TEST_CASE("logs -f follows, -n counts and --file names the stack") {
  const auto args = control({"logs", "-f", "-n", "25", "--file", "s.lua", "web"});
  CHECK(args.follow);
  CHECK(args.lines == 25);
  CHECK(args.stack_file == "s.lua");
  CHECK(args.names == std::vector<std::string>{"web"});
  CHECK(usage_error({"logs", "-n", "many"}) == "-n expects a number of lines, got 'many'");
  CHECK(usage_error({"logs", "-n"}) == "-n needs a value");
}

TEST_CASE("pid needs one name, signal a name and a signal") {
  CHECK(control({"pid", "web"}).names == std::vector<std::string>{"web"});
  CHECK(usage_error({"pid"}) == "pid needs exactly one service name");
  const auto args = control({"signal", "web", "HUP"});
  CHECK(args.names == std::vector<std::string>{"web"});
  CHECK(args.signal == "HUP");
  CHECK(control({"signal", "web", "-9"}).signal == "-9");
  CHECK(usage_error({"signal", "web"}) ==
        "signal needs a service and a signal: luvsup signal NAME SIG");
}

TEST_CASE("reload and shutdown take no names; unknown options are usage errors") {
  CHECK(control({"shutdown"}).command == "shutdown");
  CHECK(usage_error({"reload", "web"}) == "reload takes no service names");
  CHECK(usage_error({"status", "--all"}) == "unknown option '--all' for status");
  CHECK(usage_error({"start", "--json", "web"}) == "unknown option '--json' for start");
}

TEST_CASE("run takes --detach and -s") {
  auto parsed = parse({"run", "--detach", "-s", "/tmp/s.sock", "stack.lua"});
  REQUIRE(std::holds_alternative<cli::Options>(parsed));
  const auto& options = std::get<cli::Options>(parsed);
  CHECK(options.detach);
  CHECK(options.socket == "/tmp/s.sock");
  CHECK(usage_error({"check", "--detach"}) == "unknown option '--detach'");
  CHECK(usage_error({"run", "-s"}) == "-s needs a socket path");
}
