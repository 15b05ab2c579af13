// Command-line parsing for `luvsup COMMAND [OPTIONS] [STACK]`.
#pragma once

#include "cli/control_options.hpp"

#include <spdlog/common.h>

#include <string>
#include <variant>

namespace luvsup::cli {

enum class Command { run, check, help, version, control };

struct Options {
  Command command = Command::help;
  std::string stack_file = "stack.lua";  // the stack file in the current directory by default
  spdlog::level::level_enum log_level = spdlog::level::info;
  bool quiet = false;     // run: no service output in the terminal
  bool color = true;      // run: colors when the output is a terminal
  bool watch = true;      // run: reload when a file of the stack changes
  bool plan = false;      // check: print what reloading the running stack to STACK would do
  bool detach = false;    // run: in the background once the stack is up
  std::string socket;     // run, check --plan: -s PATH, the control socket (empty: the stack's)
  ControlArgs control;    // the control commands (status, stop, ...)
};

struct UsageError {
  std::string message;
};

std::variant<Options, UsageError> parse_options(int argc, char** argv);

// The text of `luvsup --help`.
const char* usage_text();

}  // namespace luvsup::cli
