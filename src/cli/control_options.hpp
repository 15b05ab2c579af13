// Command-line arguments of the control commands (luvsup status, start, stop,
// restart, logs, reload, shutdown, pid, signal): everything that talks to a
// running luvsup over its control socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::cli {

struct ControlArgs {
  std::string command;            // "status", "stop", ...
  std::vector<std::string> names; // service names (signal: NAME then SIG is split off)
  bool all = false;               // start/stop/restart --all
  bool json = false;              // status --json
  bool follow = false;            // logs -f
  int lines = 10;                 // logs -n N
  std::string signal;             // signal NAME SIG
  std::string socket;             // -s PATH; empty = LUVSUP_SOCKET or the stack's socket
  std::string stack_file;         // -f/--file STACK; empty = ./stack.lua
};

bool is_control_command(std::string_view command);

// Parses the arguments after the command name. Returns the error message of
// a usage mistake.
std::optional<std::string> parse_control_args(std::string_view command,
                                              const std::vector<std::string_view>& args,
                                              ControlArgs& out);

} // namespace luvsup::cli
