#include "app/commands.hpp"
#include "app/stack_validation.hpp"
#include "cli/control_command.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace luvsup::app {

int check_command(const cli::Options& options) {
  auto checked = load_and_order(options.stack_file);
  if (auto* error = std::get_if<std::string>(&checked)) {
    fmt::print(stderr, "{}\n", *error);
    return k_exit_failure;
  }
  const auto& stack = std::get<OrderedStack>(checked);
  fmt::print("{}: ok: stack '{}', {} service{}\n", options.stack_file, stack.definition.name,
             stack.definition.services.size(), stack.definition.services.size() == 1 ? "" : "s");
  fmt::print("start order:\n");
  for (size_t i = 0; i < stack.levels.size(); ++i) {
    fmt::print("  {}. {}\n", i + 1, fmt::join(stack.levels[i], ", "));
  }
  if (!options.plan) {
    return k_exit_ok;
  }
  // The running luvsup loads the file itself and plans against what it runs.
  cli::ControlArgs plan;
  plan.command = "plan";
  plan.stack_file = options.stack_file;
  plan.socket = options.socket;
  std::fflush(stdout);
  return cli::control_command(plan);
}

}  // namespace luvsup::app
