#include "cli/control_client.hpp"

#include "cli/reply_head.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace luvsup::cli {

std::variant<ControlClient, ConnectFailure> ControlClient::connect(const std::string& socket_path) {
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof addr.sun_path) {
    return ConnectFailure{ConnectError::other, "the socket path is longer than 107 bytes"};
  }
  os::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return ConnectFailure{ConnectError::other, std::strerror(errno)};
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    const ConnectError kind = err == ENOENT || err == ECONNREFUSED || err == ENOTDIR
                                  ? ConnectError::not_running
                              : err == EACCES || err == EPERM ? ConnectError::denied
                                                              : ConnectError::other;
    return ConnectFailure{kind, std::strerror(err)};
  }
  return ControlClient(std::move(fd));
}

bool ControlClient::send(const nlohmann::json& request) {
  const std::string line =
      request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::send(m_fd.get(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      m_error = std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> ControlClient::next_line() {
  for (;;) {
    const size_t newline = m_buffer.find('\n');
    if (newline != std::string::npos) {
      std::string line = m_buffer.substr(0, newline);
      m_buffer.erase(0, newline + 1);
      return line;
    }
    char buf[65536];
    const ssize_t n = ::read(m_fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      m_error = n < 0 ? std::strerror(errno) : "";
      return std::nullopt;
    }
    m_buffer.append(buf, static_cast<size_t>(n));
  }
}

std::optional<nlohmann::json> ControlClient::checked(nlohmann::json doc) {
  if (doc.is_discarded()) {
    m_error = "luvsup sent a line that is not JSON";
    return std::nullopt;
  }
  return doc;
}

std::optional<nlohmann::json> ControlClient::next() {
  auto line = next_line();
  if (!line) {
    return std::nullopt;
  }
  return checked(nlohmann::json::parse(*line, nullptr, false));
}

std::optional<nlohmann::json> ControlClient::next_head(std::string& line) {
  auto read = next_line();
  if (!read) {
    return std::nullopt;
  }
  line = std::move(*read);
  return checked(parse_reply_head(line));
}

} // namespace luvsup::cli
