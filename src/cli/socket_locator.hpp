// Which control socket a control command talks to: `-s PATH`, else
// $LUVSUP_SOCKET, else the socket of the stack file (-f STACK, default
// ./stack.lua), derived as `luvsup run` derives it.
#pragma once

#include "cli/control_options.hpp"

#include <string>
#include <variant>

namespace luvsup::cli {

struct SocketTarget {
  std::string path;  // the socket
  std::string stack; // the stack file as the user named it; empty when -s/LUVSUP_SOCKET
};

struct LocateError {
  std::string message;
};

std::variant<SocketTarget, LocateError> locate_socket(const ControlArgs& args);

} // namespace luvsup::cli
