#include "control/socket_path.hpp"

#include "process/stack_hash.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace luvsup::control {

std::string socket_path_for(const std::string& stack_realpath, const std::string& state_dir,
                            const std::string& configured) {
  std::string path = configured.empty() ? state_dir + "/control.sock" : configured;
  if (path.size() <= k_max_socket_path) {
    return path;
  }
  return fmt::format("/tmp/luvsup-{}/{}.sock", ::getuid(), process::stack_hash(stack_realpath));
}

std::optional<std::string> prepare_socket_dir(const std::string& socket_path) {
  const std::string dir = std::filesystem::path(socket_path).parent_path().string();
  if (dir.empty()) {
    return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return fmt::format("cannot create the socket directory {}: {}", dir, ec.message());
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return fmt::format("cannot inspect {}: {}", dir, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
    // A directory someone else owns (a planted /tmp/luvsup-<uid>) could hand
    // the socket to them: refuse rather than use it.
    return fmt::format("the socket directory {} is not a directory owned by uid {}", dir,
                       ::geteuid());
  }
  if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    return fmt::format("cannot make {} private (mode 0700): {}", dir, std::strerror(errno));
  }
  return std::nullopt;
}

} // namespace luvsup::control
