#include "readiness/notify_path.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace luvsup::readiness {

namespace {

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::optional<std::string> make_one(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    return std::nullopt;
  }
  return fmt::format("cannot create {}: {}", dir, std::strerror(errno));
}

}  // namespace

NotifyPath notify_path_for(const std::string& state_dir, const std::string& service,
                           const std::string& tmp_root) {
  NotifyPath preferred{state_dir + "/notify", state_dir + "/notify/" + service + ".sock"};
  if (preferred.path.size() <= k_max_socket_path) {
    return preferred;
  }
  const std::string dir = fmt::format("{}/luvsup-{}", tmp_root, ::geteuid());
  return {dir, fmt::format("{}/{:016x}.sock", dir, fnv1a(preferred.path))};
}

std::optional<std::string> ensure_private_dir(const std::string& dir) {
  // Parents first: the state directory may not exist before the first start.
  for (size_t slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1)) {
    if (auto error = make_one(dir.substr(0, slash))) {
      return error;
    }
  }
  if (auto error = make_one(dir)) {
    return error;
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    return fmt::format("cannot inspect {}: {}", dir, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fmt::format("{} is not a directory", dir);
  }
  if (st.st_uid != ::geteuid()) {
    return fmt::format("{} is owned by uid {}, not {}", dir, st.st_uid, ::geteuid());
  }
  if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    return fmt::format("cannot make {} private (mode 0700): {}", dir, std::strerror(errno));
  }
  return std::nullopt;
}

}  // namespace luvsup::readiness
