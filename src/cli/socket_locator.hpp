// Which control socket a control command talks to: `-s PATH`, else
// $LUVSUP_SOCKET, else the socket of the stack file (-f STACK, default
// ./stack.lua), derived as `luvsup run` derives it.
#pragma once

#include "cli/control_options.hpp"

#include <optional>
#include <string>
#include <variant>

namespace luvsup::cli {

struct SocketTarget {
  std::string path;  // the socket
  std::string stack; // the stack file as the user named it; empty when -s/LUVSUP_SOCKET
  std::string real;  // its real path: a guessed socket's request names it, so a wrong guess is refused
};

struct LocateError {
  std::string message;
};

std::variant<SocketTarget, LocateError> locate_socket(const ControlArgs& args);

// The socket a stack with the default state directory and socket would have,
// when one is there: found without running the stack file (which costs more
// than the request itself). The request then names the stack, so a luvsup of
// another stack refuses it and the caller falls back to locate_socket().
std::optional<SocketTarget> guess_socket(const ControlArgs& args);

} // namespace luvsup::cli
