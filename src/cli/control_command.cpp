#include "cli/control_command.hpp"

#include "app/commands.hpp"
#include "cli/control_client.hpp"
#include "cli/json_indent.hpp"
#include "cli/log_tail.hpp"
#include "cli/socket_locator.hpp"
#include "cli/status_table.hpp"
#include "control/request.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>

namespace luvsup::cli {

namespace {

using nlohmann::json;

// The path as the user would type it: relative when under the current directory.
std::string shown(const std::string& path) {
  std::error_code ec;
  const auto cwd = std::filesystem::current_path(ec);
  const std::string prefix = cwd.string() + "/";
  return !ec && path.starts_with(prefix) ? path.substr(prefix.size()) : path;
}

json make_request(const ControlArgs& args) {
  json request = {{"v", 1}, {"id", 1}, {"cmd", args.command}};
  if (!args.names.empty()) {
    request["services"] = args.names;
  }
  if (args.all) {
    request["all"] = true;
  }
  if (args.command == "logs") {
    request["lines"] = args.lines;
    request["follow"] = args.follow;
  }
  if (args.command == "signal") {
    request["signal"] = args.signal;
  }
  if (args.command == "plan") {
    request["file"] = std::filesystem::absolute(args.stack_file.empty() ? "stack.lua" : args.stack_file)
                          .lexically_normal()
                          .string();
  }
  return request;
}

int fail(const json& reply) {
  const std::string error = reply.value("error", json()).is_string()
                                ? reply["error"].get<std::string>()
                                : "the request failed";
  fmt::print(stderr, "luvsup: {}\n", error);
  return error.starts_with("permission denied") ? app::k_exit_denied : app::k_exit_failure;
}

std::string record_of(const json& event) {
  const std::string stream = event.value("stream", "");
  return fmt::format("{} {}{} {}", event.value("time", ""), stream.empty() ? "" : stream + " ",
                     event.value("mark", "|"), event.value("line", ""));
}

void print_line(const std::string& service, const std::string& record, size_t width, bool prefix) {
  if (prefix) {
    fmt::print("{:<{}} | {}\n", service, width, record);
  } else {
    fmt::print("{}\n", record);
  }
}

int logs(ControlClient& client, const json& reply, const ControlArgs& args) {
  std::vector<std::pair<std::string, std::vector<std::string>>> tails;
  size_t width = 0;
  std::set<std::string> services;
  for (const auto& file : reply.value("files", json::array())) {
    const std::string service = file.value("service", "");
    services.insert(service);
    width = std::max(width, service.size());
    for (const char* key : {"file", "stderr_file"}) {
      const std::string path = file.value(key, "");
      if (!path.empty()) {
        tails.emplace_back(service, tail_log(path, static_cast<size_t>(args.lines)));
      }
    }
  }
  const bool prefix = services.size() > 1;
  for (const auto& line : merge_tails(tails, static_cast<size_t>(args.lines))) {
    print_line(line.service, line.record, width, prefix);
  }
  std::fflush(stdout);
  if (!args.follow) {
    return app::k_exit_ok;
  }
  while (auto event = client.next()) {
    if (event->value("event", "") == "log") {
      const std::string service = event->value("service", "");
      print_line(service, record_of(*event), width, prefix);
      std::fflush(stdout);
    }
  }
  fmt::print(stderr, "luvsup: the log stream ended{}\n",
             client.error().empty() ? "" : ": " + client.error());
  return app::k_exit_failure;
}

// `stop` returns once every service it stopped has no process left (the stop
// timeout and SIGKILL bound the wait), so a script can rely on it.
int wait_stopped(ControlClient& client, const json& reply) {
  json names = json::array();
  for (const auto& s : reply.value("services", json::array())) {
    names.push_back(s.value("name", ""));
  }
  const json request = {{"v", 1}, {"id", 2}, {"cmd", "status"}, {"services", names}};
  useconds_t pause = 10000;
  for (;;) {
    if (!client.send(request)) {
      break;
    }
    auto status = client.next();
    if (!status || !status->value("ok", false)) {
      break;
    }
    bool busy = false;
    for (const auto& s : status->value("services", json::array())) {
      const std::string state = s.value("state", "");
      busy = busy || state == "stopping" || state == "running";
    }
    if (!busy) {
      return app::k_exit_ok;
    }
    ::usleep(pause);
    pause = std::min<useconds_t>(pause * 2, 200000);
  }
  fmt::print(stderr, "luvsup: lost the connection while waiting for the stop\n");
  return app::k_exit_failure;
}

// Whether the command prints the reply line as it came (indented), so only
// its top level needs parsing.
bool prints_reply_line(const ControlArgs& args) { return args.command == "status" && args.json; }

// `line` is the reply as it came when prints_reply_line(args).
int report(ControlClient& client, const json& reply, const ControlArgs& args,
           const std::string& line) {
  const std::string& cmd = args.command;
  if (cmd == "status") {
    if (args.json) {
      std::string text = indent_json(line);
      text += '\n';
      if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
          std::fflush(stdout) != 0) {
        fmt::print(stderr, "luvsup: cannot write the status: {}\n", std::strerror(errno));
        return app::k_exit_failure;
      }
    } else {
      fmt::print("{}", render_status_table(reply.value("services", json::array()),
                                           isatty(STDOUT_FILENO) != 0));
      fmt::print("{}", render_reload_footer(reply.value("stack", json::object()),
                                            static_cast<double>(std::time(nullptr))));
    }
  } else if (cmd == "start" || cmd == "stop" || cmd == "restart") {
    for (const auto& s : reply.value("services", json::array())) {
      fmt::print("{}: {}\n", s.value("name", ""), s.value("state", ""));
    }
    if (cmd == "stop") {
      return wait_stopped(client, reply);
    }
  } else if (cmd == "reload" || cmd == "plan") {
    fmt::print("{}\n", reply.value("message", ""));
  } else if (cmd == "pid") {
    fmt::print("{}\n", reply.value("pid", 0));
  } else if (cmd == "signal") {
    fmt::print("sent {} to {} (pid {})\n", args.signal, args.names.front(), reply.value("pid", 0));
  } else if (cmd == "shutdown") {
    // luvsup closes the connection when the stack has stopped.
    while (client.next()) {
    }
    fmt::print("stack stopped\n");
  } else if (cmd == "logs") {
    return logs(client, reply, args);
  }
  return app::k_exit_ok;
}

// Whether a reply to a guessed socket says it is not the stack's: another
// stack's luvsup, or one too old to know the "stack" key.
bool wrong_guess(const json& reply) {
  const std::string error = reply.value("error", "");
  return error.starts_with(control::k_other_stack) || error.starts_with("unknown key 'stack'");
}

// Talks to the luvsup at `target`. While `guessing`, gives up quietly
// (nullopt) when nothing listens there or it runs another stack.
std::optional<int> talk(const SocketTarget& target, const ControlArgs& args, bool guessing) {
  const std::string& path = target.path;
  const std::string& stack = target.stack;
  auto connected = ControlClient::connect(path);
  if (auto* failure = std::get_if<ConnectFailure>(&connected)) {
    if (guessing) {
      return std::nullopt;
    }
    switch (failure->kind) {
    case ConnectError::not_running:
      if (stack.empty()) {
        fmt::print(stderr, "luvsup: no luvsup is running at {} ({})\n", path, failure->message);
      } else {
        fmt::print(stderr,
                   "luvsup: no luvsup is running for {} (no socket at {}); start one with "
                   "`luvsup run {}`\n",
                   stack, shown(path), stack);
      }
      return app::k_exit_not_running;
    case ConnectError::denied:
      fmt::print(stderr,
                 "luvsup: permission denied: cannot connect to {} ({}); only its owner "
                 "and root may control this stack\n",
                 shown(path), failure->message);
      return app::k_exit_denied;
    case ConnectError::other:
      fmt::print(stderr, "luvsup: cannot connect to {}: {}\n", shown(path), failure->message);
      return app::k_exit_failure;
    }
  }
  auto& client = std::get<ControlClient>(connected);
  json request = make_request(args);
  if (guessing) {
    request["stack"] = target.real;  // a luvsup of another stack refuses it
  }
  const bool sent = client.send(request);
  const std::string send_error = client.error();
  // A refused client may find the connection closed before it sends; the
  // refusal is still there to read.
  std::string line;
  auto reply = prints_reply_line(args) ? client.next_head(line) : client.next();
  if (guessing && (!reply || (!reply->value("ok", false) && wrong_guess(*reply)))) {
    return std::nullopt;
  }
  if (!sent && (!reply || reply->value("ok", false))) {
    fmt::print(stderr, "luvsup: cannot send to {}: {}\n", shown(path), send_error);
    return app::k_exit_failure;
  }
  if (!reply) {
    fmt::print(stderr, "luvsup: no reply from {}{}\n", shown(path),
               client.error().empty() ? " (luvsup closed the connection)" : ": " + client.error());
    return app::k_exit_failure;
  }
  if (!reply->value("ok", false)) {
    return fail(*reply);
  }
  return report(client, *reply, args, line);
}

} // namespace

int control_command(const ControlArgs& args) {
  ::signal(SIGPIPE, SIG_IGN);
  // Most stacks keep the default socket: try it before running the stack
  // file to find out where the socket is.
  if (auto guess = guess_socket(args)) {
    if (auto code = talk(*guess, args, true)) {
      return *code;
    }
  }
  auto target = locate_socket(args);
  if (auto* error = std::get_if<LocateError>(&target)) {
    fmt::print(stderr, "luvsup: {}\n", error->message);
    return app::k_exit_not_running;
  }
  return *talk(std::get<SocketTarget>(target), args, false);
}

} // namespace luvsup::cli
