#include "cli/control_options.hpp"

#include <array>
#include <charconv>

namespace luvsup::cli {

namespace {

constexpr std::array<std::string_view, 9> k_commands = {
    "status", "start", "stop", "restart", "logs", "reload", "shutdown", "pid", "signal"};

} // namespace

bool is_control_command(std::string_view command) {
  for (auto c : k_commands) {
    if (c == command) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> parse_control_args(std::string_view command,
                                              const std::vector<std::string_view>& args,
                                              ControlArgs& out) {
  out.command = std::string(command);
  const bool is_logs = command == "logs";
  const bool takes_all = command == "start" || command == "stop" || command == "restart";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    auto value = [&](std::string& into) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        return std::string(arg) + " needs a value";
      }
      into = std::string(args[++i]);
      return std::nullopt;
    };
    if (arg == "-s" || arg == "--socket") {
      if (auto error = value(out.socket)) {
        return error;
      }
    } else if (arg == "--file" || (arg == "-f" && !is_logs)) {
      if (auto error = value(out.stack_file)) {
        return error;
      }
    } else if (is_logs && (arg == "-f" || arg == "--follow")) {
      out.follow = true;
    } else if (is_logs && (arg == "-n" || arg == "--lines")) {
      std::string text;
      if (auto error = value(text)) {
        return error;
      }
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.lines);
      if (ec != std::errc() || end != text.data() + text.size() || out.lines < 0) {
        return "-n expects a number of lines, got '" + text + "'";
      }
    } else if (command == "status" && arg == "--json") {
      out.json = true;
    } else if (takes_all && (arg == "--all" || arg == "-a")) {
      out.all = true;
    } else if (arg.starts_with("-") && arg.size() > 1 &&
               !(command == "signal" && out.names.size() == 1)) {
      return "unknown option '" + std::string(arg) + "' for " + std::string(command);
    } else {
      out.names.emplace_back(arg);
    }
  }
  if (command == "signal") {
    if (out.names.size() != 2) {
      return "signal needs a service and a signal: luvsup signal NAME SIG";
    }
    out.signal = out.names.back();
    out.names.pop_back();
  } else if (command == "pid" && out.names.size() != 1) {
    return "pid needs exactly one service name";
  } else if (takes_all && out.all == !out.names.empty()) {
    return std::string(command) + " needs service names or --all";
  } else if ((command == "reload" || command == "shutdown") && !out.names.empty()) {
    return std::string(command) + " takes no service names";
  }
  return std::nullopt;
}

} // namespace luvsup::cli
