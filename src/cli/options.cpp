#include "cli/options.hpp"

#include "app/own_log.hpp"

#include <string_view>
#include <vector>

namespace luvsup::cli {

const char* usage_text() {
  return "usage: luvsup run [--quiet] [--no-color] [--no-watch] [--log-level LEVEL] [--detach]\n"
         "                  [-s SOCKET] [STACK]\n"
         "       luvsup check [--plan [-s SOCKET]] [STACK]\n"
         "       luvsup status [NAME...] [--json]\n"
         "       luvsup start|stop|restart NAME... | --all\n"
         "       luvsup logs [-f] [-n N] [NAME...]\n"
         "       luvsup reload | shutdown | pid NAME | signal NAME SIG\n"
         "       luvsup --version | --help\n"
         "\n"
         "  run     start every service of STACK (default ./stack.lua) and supervise it;\n"
         "          SIGINT or SIGTERM stops the stack in reverse dependency order\n"
         "  check   validate STACK and print its services in start order; with --plan,\n"
         "          also what reloading the running stack to STACK would do\n"
         "  status, start, stop, restart, logs, reload, shutdown, pid, signal:\n"
         "          control a running luvsup through its socket, found from -s SOCKET,\n"
         "          $LUVSUP_SOCKET or the stack file (-f/--file STACK, default ./stack.lua)\n"
         "\n"
         "  --quiet           do not show service output in the terminal\n"
         "  --no-color        no colors in the terminal\n"
         "  --no-watch        do not reload when a file of the stack changes\n"
         "  --log-level LEVEL trace, debug, info (default), warn, error or off\n"
         "  --detach          run in the background; return once the stack is up\n"
         "  -s SOCKET         the control socket (default <state_dir>/control.sock)\n"
         "\n"
         "See luvsup(1), luvsup-stack(5) and luvsup-control(7).\n";
}

std::variant<Options, UsageError> parse_options(int argc, char** argv) {
  Options options;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    return UsageError{"missing command"};
  }
  const std::string_view command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    options.command = Command::help;
    return options;
  }
  if (command == "--version" || command == "version") {
    options.command = Command::version;
    return options;
  }
  if (is_control_command(command)) {
    options.command = Command::control;
    if (auto error = parse_control_args(command, {args.begin() + 1, args.end()}, options.control)) {
      return UsageError{*error};
    }
    return options;
  }
  if (command == "run") {
    options.command = Command::run;
  } else if (command == "check") {
    options.command = Command::check;
  } else {
    return UsageError{"unknown command '" + std::string(command) + "'"};
  }
  bool have_stack = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--quiet" || arg == "-q") {
      options.quiet = true;
    } else if (arg == "--no-color") {
      options.color = false;
    } else if (arg == "--no-watch") {
      options.watch = false;
    } else if (options.command == Command::check && arg == "--plan") {
      options.plan = true;
    } else if (options.command == Command::run && arg == "--detach") {
      options.detach = true;
    } else if (arg == "-s" || arg == "--socket") {
      if (i + 1 >= args.size()) {
        return UsageError{std::string(arg) + " needs a socket path"};
      }
      options.socket = std::string(args[++i]);
    } else if (arg == "--log-level" || arg.starts_with("--log-level=")) {
      std::string_view value;
      if (arg == "--log-level") {
        if (i + 1 >= args.size()) {
          return UsageError{"--log-level needs a value"};
        }
        value = args[++i];
      } else {
        value = arg.substr(std::string_view("--log-level=").size());
      }
      auto level = app::parse_log_level(value);
      if (!level) {
        return UsageError{"unknown log level '" + std::string(value) +
                          "' (trace, debug, info, warn, error, off)"};
      }
      options.log_level = *level;
    } else if (arg.starts_with("-") && arg != "-") {
      return UsageError{"unknown option '" + std::string(arg) + "'"};
    } else if (!have_stack) {
      options.stack_file = std::string(arg);
      have_stack = true;
    } else {
      return UsageError{"unexpected argument '" + std::string(arg) + "'"};
    }
  }
  if (options.command == Command::check && (options.quiet || !options.color || !options.watch)) {
    return UsageError{"check takes no --quiet, --no-color or --no-watch"};
  }
  if (options.command == Command::check && !options.socket.empty() && !options.plan) {
    return UsageError{"check takes -s only with --plan"};
  }
  return options;
}

}  // namespace luvsup::cli
