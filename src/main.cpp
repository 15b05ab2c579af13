// luvsup: a process supervisor with a Lua core. See luvsup(1).
#include "app/commands.hpp"
#include "cli/control_command.hpp"
#include "cli/options.hpp"

#include <fmt/format.h>

#include <cstdio>

#ifndef LUVSUP_VERSION
#define LUVSUP_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  using namespace luvsup;
  auto parsed = cli::parse_options(argc, argv);
  if (auto* error = std::get_if<cli::UsageError>(&parsed)) {
    fmt::print(stderr, "luvsup: {}\n{}", error->message, cli::usage_text());
    return app::k_exit_usage;
  }
  const auto& options = std::get<cli::Options>(parsed);
  switch (options.command) {
  case cli::Command::run: return app::run_command(options);
  case cli::Command::check: return app::check_command(options);
  case cli::Command::control: return cli::control_command(options.control);
  case cli::Command::version: fmt::print("luvsup {}\n", LUVSUP_VERSION); return app::k_exit_ok;
  case cli::Command::help: fmt::print("{}", cli::usage_text()); return app::k_exit_ok;
  }
  return app::k_exit_usage;
}
