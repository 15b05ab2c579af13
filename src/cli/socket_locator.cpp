#include "cli/socket_locator.hpp"

#include "control/socket_path.hpp"
#include "lua/stack_loader.hpp"

#include <fmt/format.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

namespace luvsup::cli {

std::variant<SocketTarget, LocateError> locate_socket(const ControlArgs& args) {
  if (!args.socket.empty()) {
    return SocketTarget{args.socket, {}, {}};
  }
  if (const char* env = std::getenv("LUVSUP_SOCKET"); env != nullptr && *env != '\0') {
    return SocketTarget{env, {}, {}};
  }
  const std::string stack = args.stack_file.empty() ? "stack.lua" : args.stack_file;
  char real[PATH_MAX];
  if (::realpath(stack.c_str(), real) == nullptr) {
    return LocateError{fmt::format(
        "no {} here, so no luvsup to talk to; give the stack with -f STACK, the socket with "
        "-s PATH or $LUVSUP_SOCKET",
        stack)};
  }
  // The stack says where its state and socket live; if it does not load
  // (mid-edit), the defaults still find a luvsup started with them.
  auto loaded = lua::load_stack(stack);
  if (auto* definition = std::get_if<lua::StackDefinition>(&loaded)) {
    return SocketTarget{control::socket_path_for(definition->file, definition->state_dir,
                                                 definition->control_socket),
                        stack, definition->file};
  }
  const std::string dir = std::filesystem::path(real).parent_path().string();
  return SocketTarget{control::socket_path_for(real, dir + "/.luvsup", ""), stack, real};
}

std::optional<SocketTarget> guess_socket(const ControlArgs& args) {
  if (!args.socket.empty()) {
    return std::nullopt;
  }
  if (const char* env = std::getenv("LUVSUP_SOCKET"); env != nullptr && *env != '\0') {
    return std::nullopt;
  }
  const std::string stack = args.stack_file.empty() ? "stack.lua" : args.stack_file;
  char real[PATH_MAX];
  if (::realpath(stack.c_str(), real) == nullptr) {
    return std::nullopt;
  }
  const std::string dir = std::filesystem::path(real).parent_path().string();
  const std::string path = control::socket_path_for(real, dir + "/.luvsup", "");
  std::error_code ec;
  if (!std::filesystem::is_socket(path, ec)) {
    return std::nullopt;
  }
  return SocketTarget{path, stack, real};
}

} // namespace luvsup::cli
