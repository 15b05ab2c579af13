#include "control/request.hpp"

#include <array>
#include <optional>
#include <utility>

namespace luvsup::control {

namespace {

using nlohmann::json;

constexpr std::array<std::pair<Cmd, std::string_view>, 10> k_commands = {{
    {Cmd::status, "status"},
    {Cmd::start, "start"},
    {Cmd::stop, "stop"},
    {Cmd::restart, "restart"},
    {Cmd::logs, "logs"},
    {Cmd::reload, "reload"},
    {Cmd::plan, "plan"},
    {Cmd::shutdown, "shutdown"},
    {Cmd::pid, "pid"},
    {Cmd::signal, "signal"},
}};

// Largest "lines" a logs request may ask for.
constexpr int k_max_lines = 100000;

// The keys each request may carry besides v, id and cmd.
bool key_allowed(Cmd cmd, std::string_view key) {
  switch (cmd) {
  case Cmd::status:
    return key == "services";
  case Cmd::start:
  case Cmd::stop:
  case Cmd::restart:
    return key == "services" || key == "all";
  case Cmd::logs:
    return key == "services" || key == "lines" || key == "follow";
  case Cmd::pid:
    return key == "services";
  case Cmd::signal:
    return key == "services" || key == "signal";
  case Cmd::plan:
    return key == "file";
  case Cmd::reload:
  case Cmd::shutdown:
    return false;
  }
  return false;
}

std::optional<std::string> read_services(const json& value, std::vector<std::string>& out) {
  if (!value.is_array()) {
    return "'services' expects an array of service names";
  }
  for (const auto& item : value) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      return "'services' expects an array of non-empty strings";
    }
    out.push_back(item.get<std::string>());
  }
  return std::nullopt;
}

std::optional<std::string> check_fields(const json& doc, Request& request) {
  for (const auto& [key, value] : doc.items()) {
    if (key == "v" || key == "id" || key == "cmd") {
      continue;
    }
    if (key == "stack") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().front() != '/') {
        return "'stack' expects an absolute path";
      }
      request.stack = value.get<std::string>();
      continue;
    }
    if (!key_allowed(request.cmd, key)) {
      return "unknown key '" + key + "' for command '" + std::string(to_string(request.cmd)) + "'";
    }
    if (key == "services") {
      if (auto error = read_services(value, request.services)) {
        return error;
      }
    } else if (key == "all" || key == "follow") {
      if (!value.is_boolean()) {
        return "'" + key + "' expects true or false";
      }
      (key == "all" ? request.all : request.follow) = value.get<bool>();
    } else if (key == "lines") {
      if (!value.is_number_integer() || value.get<long long>() < 0 ||
          value.get<long long>() > k_max_lines) {
        return "'lines' expects an integer from 0 to " + std::to_string(k_max_lines);
      }
      request.lines = static_cast<int>(value.get<long long>());
    } else if (key == "file") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().front() != '/') {
        return "'file' expects an absolute path";
      }
      request.file = value.get<std::string>();
    } else if (key == "signal") {
      if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
        request.signal = value.get<std::string>();
      } else if (value.is_number_integer() && value.get<long long>() > 0 &&
                 value.get<long long>() < 65) {
        request.signal = std::to_string(value.get<long long>());
      } else {
        return "'signal' expects a signal name or number";
      }
    }
  }
  return std::nullopt;
}

// What each command needs beyond the keys being well-formed.
std::optional<std::string> check_arity(const Request& request) {
  switch (request.cmd) {
  case Cmd::start:
  case Cmd::stop:
  case Cmd::restart:
    if (request.all == !request.services.empty()) {
      return "'" + std::string(to_string(request.cmd)) +
             "' needs either service names or \"all\": true";
    }
    return std::nullopt;
  case Cmd::pid:
  case Cmd::signal:
    if (request.services.size() != 1) {
      return "'" + std::string(to_string(request.cmd)) + "' needs exactly one service name";
    }
    if (request.cmd == Cmd::signal && request.signal.empty()) {
      return "'signal' needs a signal";
    }
    return std::nullopt;
  default:
    return std::nullopt;
  }
}

} // namespace

std::string_view to_string(Cmd cmd) {
  for (const auto& [c, name] : k_commands) {
    if (c == cmd) {
      return name;
    }
  }
  return "unknown";
}

std::variant<Request, RequestError> parse_request(std::string_view line) {
  if (line.size() > k_max_request) {
    return RequestError{nullptr,
                        "request too long (more than " + std::to_string(k_max_request) + " bytes)"};
  }
  json doc = json::parse(line, nullptr, false);
  if (doc.is_discarded()) {
    return RequestError{nullptr, "malformed JSON"};
  }
  if (!doc.is_object()) {
    return RequestError{nullptr, "a request is a JSON object"};
  }
  Request request;
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!it->is_number_integer() && !it->is_string() && !it->is_null()) {
      return RequestError{nullptr, "'id' expects an integer or a string"};
    }
    request.id = *it;
  }
  auto fail = [&](std::string message) { return RequestError{request.id, std::move(message)}; };
  auto v = doc.find("v");
  if (v == doc.end()) {
    return fail("missing 'v' (the protocol version, 1)");
  }
  if (!v->is_number_integer() || v->get<long long>() != k_protocol_version) {
    return fail("unsupported protocol version (this luvsup speaks v 1)");
  }
  auto cmd = doc.find("cmd");
  if (cmd == doc.end() || !cmd->is_string()) {
    return fail("missing 'cmd' (a string such as \"status\")");
  }
  const auto& name = cmd->get_ref<const std::string&>();
  bool known = false;
  for (const auto& [c, text] : k_commands) {
    if (text == name) {
      request.cmd = c;
      known = true;
    }
  }
  if (!known) {
    return fail("unknown command '" + name.substr(0, 64) + "'");
  }
  if (auto error = check_fields(doc, request)) {
    return fail(*error);
  }
  if (auto error = check_arity(request)) {
    return fail(*error);
  }
  return request;
}

} // namespace luvsup::control
