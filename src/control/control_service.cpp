#include "control/control_service.hpp"

#include "control/status_json.hpp"
#include "lua/stack_loader.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <set>

namespace luvsup::control {

using nlohmann::json;

json error_reply(const json& id, std::string message) {
  return {{"v", k_protocol_version}, {"id", id}, {"ok", false}, {"error", std::move(message)}};
}

json ok_reply(const json& id) {
  return {{"v", k_protocol_version}, {"id", id}, {"ok", true}, {"error", nullptr}};
}

namespace {

// "TERM", "SIGTERM", "term" or "15" as a signal number; 0 when unknown.
int parse_signal(std::string text) {
  int number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && end == text.data() + text.size()) {
    return number > 0 && number < NSIG ? number : 0;
  }
  for (auto& c : text) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (text.starts_with("SIG")) {
    text.erase(0, 3);
  }
  return lua::signal_number(text);
}

std::string signal_label(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : std::to_string(sig);
}

} // namespace

ControlService::ControlService(core::Supervisor& supervisor, core::Platform& platform,
                               events::EventBus& bus, DesiredState& desired, StackInfo stack,
                               StackActions actions)
    : m_supervisor(supervisor), m_platform(platform), m_bus(bus), m_desired(desired),
      m_stack(std::move(stack)), m_actions(std::move(actions)) {}

void ControlService::handle_line(Connection& client, std::string_view line) {
  auto parsed = parse_request(line);
  if (auto* error = std::get_if<RequestError>(&parsed)) {
    client.send(error_reply(error->id, error->message));
    return;
  }
  const Request& request = std::get<Request>(parsed);
  if (!request.stack.empty() && request.stack != m_stack.file) {
    // A client that guessed the socket from a stack's directory learns that
    // it reached another stack's luvsup before anything is done.
    client.send(error_reply(request.id, std::string(k_other_stack) + m_stack.file));
    return;
  }
  try {
    handle(client, request);
  } catch (const std::exception& e) {
    // Nothing a client sends may take the supervisor down.
    spdlog::error("control: request failed: {}", e.what());
    client.send(
        error_reply(std::get<Request>(parsed).id, std::string("internal error: ") + e.what()));
  }
}

void ControlService::handle(Connection& client, const Request& request) {
  switch (request.cmd) {
  case Cmd::status:
    status(client, request);
    return;
  case Cmd::start:
  case Cmd::stop:
  case Cmd::restart:
    change(client, request);
    return;
  case Cmd::logs:
    logs(client, request);
    return;
  case Cmd::pid:
    pid(client, request);
    return;
  case Cmd::signal:
    signal(client, request);
    return;
  case Cmd::reload:
    reload(client, request);
    return;
  case Cmd::plan:
    plan(client, request);
    return;
  case Cmd::shutdown:
    spdlog::info("control: shutdown requested (client pid {})", client.peer_pid());
    client.send(ok_reply(request.id));
    m_actions.shutdown();
    return;
  }
}

std::optional<std::vector<core::Service*>> ControlService::resolve(Connection& client,
                                                                   const Request& request) {
  std::vector<core::Service*> out;
  if (request.services.empty()) {
    for (const auto& service : m_supervisor.services()) {
      out.push_back(service.get());
    }
    return out;
  }
  std::vector<std::string> unknown;
  for (const auto& name : request.services) {
    core::Service* service = m_supervisor.find(name);
    if (service == nullptr) {
      unknown.push_back(name);
    } else if (std::find(out.begin(), out.end(), service) == out.end()) {
      out.push_back(service);
    }
  }
  if (!unknown.empty()) {
    std::string names;
    for (const auto& name : unknown) {
      names += (names.empty() ? "'" : ", '") + name + "'";
    }
    client.send(error_reply(
        request.id, (unknown.size() == 1 ? "unknown service " : "unknown services ") + names));
    return std::nullopt;
  }
  return out;
}

void ControlService::status(Connection& client, const Request& request) {
  auto services = resolve(client, request);
  if (!services) {
    return;
  }
  send_services(client, request, *services, true);
}

void ControlService::send_services(Connection& client, const Request& request,
                                   const std::vector<core::Service*>& services,
                                   bool with_stack) {
  const double now = m_platform.now();
  const double wall_now = m_platform.wall_now();
  // The members of ok_reply and the rest, in the sorted order nlohmann
  // gives every other reply.
  JsonWriter out;
  out.begin_object();
  out.field("error", nullptr);
  out.field("id", request.id);
  out.field("ok", true);
  out.key("services");
  out.begin_array();
  for (const core::Service* service : services) {
    write_service_status(out, m_supervisor, *service, now, wall_now);
  }
  out.end_array();
  if (with_stack) {
    out.key("stack");
    out.begin_object();
    out.field("file", m_stack.file);
    out.key("last_reload");
    write_last_reload(out, m_actions.last_reload());
    out.field("name", m_stack.name);
    out.field("pid", ::getpid());
    out.field("shutting_down", m_supervisor.shutting_down());
    out.field("uptime", now - m_stack.started_at);
    out.end_object();
  }
  out.field("v", k_protocol_version);
  out.end_object();
  client.send_line(out.text());
}

namespace {

void send_result(Connection& client, const Request& request, const ActionResult& result) {
  if (!result.ok) {
    client.send(error_reply(request.id, result.message));
    return;
  }
  json reply = ok_reply(request.id);
  reply["message"] = result.message;
  client.send(reply);
}

}  // namespace

void ControlService::reload(Connection& client, const Request& request) {
  spdlog::info("control: reload requested (client pid {})", client.peer_pid());
  send_result(client, request, m_actions.reload());
}

void ControlService::plan(Connection& client, const Request& request) {
  send_result(client, request, m_actions.plan(request.file));
}

void ControlService::remember_stop(const std::string& name, bool stopped) {
  if (m_desired.stopped().contains(name) == stopped) {
    return;
  }
  m_desired.set_stopped(name, stopped);
  if (auto error = m_desired.save()) {
    spdlog::warn("control: {}: the stop will not survive a restart of luvsup", *error);
  }
}

void ControlService::change(Connection& client, const Request& request) {
  if (m_supervisor.shutting_down()) {
    client.send(error_reply(request.id, "the stack is shutting down"));
    return;
  }
  auto services = resolve(client, request);
  if (!services) {
    return;
  }
  for (core::Service* service : *services) {
    const std::string& name = service->name();
    switch (request.cmd) {
    case Cmd::stop:
      spdlog::info("{}: stop requested (client pid {})", name, client.peer_pid());
      m_supervisor.hold_down(name, true);
      remember_stop(name, true);
      m_supervisor.stop(*service);
      break;
    case Cmd::start:
    case Cmd::restart:
      spdlog::info("{}: {} requested (client pid {})", name, to_string(request.cmd),
                   client.peer_pid());
      m_supervisor.hold_down(name, false);
      remember_stop(name, false);
      if (request.cmd == Cmd::start) {
        m_supervisor.start(*service);
      } else {
        m_supervisor.restart(*service);
      }
      break;
    default:
      break;
    }
  }
  send_services(client, request, *services, false);
}

void ControlService::pid(Connection& client, const Request& request) {
  auto services = resolve(client, request);
  if (!services) {
    return;
  }
  const core::Service& service = *services->front();
  if (!service.main_running()) {
    client.send(error_reply(request.id, "service '" + service.name() + "' is not running (" +
                                            std::string(core::to_string(service.state())) + ")"));
    return;
  }
  json reply = ok_reply(request.id);
  reply["pid"] = service.pid();
  client.send(reply);
}

void ControlService::signal(Connection& client, const Request& request) {
  auto services = resolve(client, request);
  if (!services) {
    return;
  }
  const core::Service& service = *services->front();
  const int sig = parse_signal(request.signal);
  if (sig == 0) {
    client.send(error_reply(request.id, "unknown signal '" + request.signal + "'"));
    return;
  }
  if (!service.main_running()) {
    client.send(error_reply(request.id, "service '" + service.name() + "' is not running (" +
                                            std::string(core::to_string(service.state())) + ")"));
    return;
  }
  if (::kill(service.pid(), sig) != 0) {
    client.send(error_reply(request.id, "cannot signal pid " + std::to_string(service.pid()) +
                                            ": " + std::strerror(errno)));
    return;
  }
  spdlog::info("{}: sent {} to pid {} (client pid {})", service.name(), signal_label(sig),
               service.pid(), client.peer_pid());
  json reply = ok_reply(request.id);
  reply["pid"] = service.pid();
  reply["signal"] = sig;
  client.send(reply);
}

void ControlService::logs(Connection& client, const Request& request) {
  auto services = resolve(client, request);
  if (!services) {
    return;
  }
  // The client reads the past lines from the files itself (it is the owner
  // or root); the supervisor only streams what comes next.
  json files = json::array();
  std::set<std::string, std::less<>> names;
  for (const core::Service* service : *services) {
    files.push_back({{"service", service->name()},
                     {"file", service->spec().log.file},
                     {"stderr_file", service->spec().log.stderr_file}});
    names.insert(service->name());
  }
  json reply = ok_reply(request.id);
  reply["files"] = std::move(files);
  reply["follow"] = request.follow;
  client.send(reply);
  if (request.follow) {
    if (request.services.empty()) {
      names.clear(); // every service, including ones a reload adds
    }
    client.follow_logs(m_bus, std::move(names));
  }
}

} // namespace luvsup::control
