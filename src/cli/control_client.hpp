// The client end of the control socket: a blocking connection that sends
// one JSON request line and reads JSON lines back.
#pragma once

#include "os/unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <variant>

namespace luvsup::cli {

enum class ConnectError { not_running, denied, other };

struct ConnectFailure {
  ConnectError kind;
  std::string message; // strerror text
};

class ControlClient {
public:
  static std::variant<ControlClient, ConnectFailure> connect(const std::string& socket_path);

  // Sends one request; false when the socket broke.
  bool send(const nlohmann::json& request);
  // The next JSON line; nullopt at end of stream (or on a read error, or on
  // a line that is not JSON: `error()` says which).
  std::optional<nlohmann::json> next();
  // As next(), but the reply is only its top level (parse_reply_head) and
  // the line itself is left in `line`, for a command that prints it as it came.
  std::optional<nlohmann::json> next_head(std::string& line);
  const std::string& error() const { return m_error; }

private:
  std::optional<std::string> next_line();
  std::optional<nlohmann::json> checked(nlohmann::json doc);

  explicit ControlClient(os::UniqueFd fd) : m_fd(std::move(fd)) {}
  os::UniqueFd m_fd;
  std::string m_buffer;
  std::string m_error;
};

} // namespace luvsup::cli
