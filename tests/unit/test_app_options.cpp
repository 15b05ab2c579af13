#include "app/own_log.hpp"
#include "cli/options.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace luvsup;

namespace {
std::variant<cli::Options, cli::UsageError> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "luvsup");
  return cli::parse_options(static_cast<int>(args.size()), const_cast<char**>(args.data()));
}
}  // namespace

TEST_CASE("every log level the usage text offers is accepted") {
  for (const char* level : {"trace", "debug", "info", "warn", "warning", "error", "off"}) {
    CAPTURE(level);
    CHECK(app::parse_log_level(level).has_value());
  }
  CHECK(app::parse_log_level("warn") == spdlog::level::warn);
  CHECK(app::parse_log_level("error") == spdlog::level::err);
  CHECK_FALSE(app::parse_log_level("loud").has_value());
}

TEST_CASE("run takes a stack file, output and log options") {
  auto parsed = parse({"run", "--quiet", "--log-level", "warn", "my.lua"});
  REQUIRE(std::holds_alternative<cli::Options>(parsed));
  const auto& options = std::get<cli::Options>(parsed);
  CHECK(options.command == cli::Command::run);
  CHECK(options.quiet);
  CHECK(options.log_level == spdlog::level::warn);
  CHECK(options.stack_file == "my.lua");
}

TEST_CASE("the stack file defaults to stack.lua in the current directory") {
  auto parsed = parse({"check"});
  REQUIRE(std::holds_alternative<cli::Options>(parsed));
  CHECK(std::get<cli::Options>(parsed).stack_file == "stack.lua");
}

TEST_CASE("unknown commands, options and extra arguments are usage errors") {
  CHECK(std::holds_alternative<cli::UsageError>(parse({"frob"})));
  CHECK(std::holds_alternative<cli::UsageError>(parse({"run", "--bogus"})));
  CHECK(std::holds_alternative<cli::UsageError>(parse({"run", "a.lua", "b.lua"})));
  CHECK(std::holds_alternative<cli::UsageError>(parse({"run", "--log-level"})));
  CHECK(std::holds_alternative<cli::UsageError>(parse({})));
}

TEST_CASE("check takes --plan, run does not") {
  auto checked = parse({"check", "--plan", "other.lua"});
  REQUIRE(std::holds_alternative<cli::Options>(checked));
  CHECK(std::get<cli::Options>(checked).plan);
  CHECK(std::get<cli::Options>(checked).stack_file == "other.lua");
  CHECK_FALSE(std::get<cli::Options>(parse({"check"})).plan);
  CHECK(std::get<cli::Options>(parse({"check", "--plan", "-s", "/run/x.sock"})).socket == "/run/x.sock");
  auto socket_alone = parse({"check", "-s", "/run/x.sock"});
  REQUIRE(std::holds_alternative<cli::UsageError>(socket_alone));
  CHECK(std::get<cli::UsageError>(socket_alone).message == "check takes -s only with --plan");
  auto run = parse({"run", "--plan"});
  REQUIRE(std::holds_alternative<cli::UsageError>(run));
  CHECK(std::get<cli::UsageError>(run).message == "unknown option '--plan'");
}
