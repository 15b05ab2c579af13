#include "readiness/notify_path.hpp"

#include "os/unique_fd.hpp"

#include <fcntl.h>
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

// Creates one directory level; `created` tells whether this call made it.
std::optional<std::string> make_one(const std::string& dir, bool* created = nullptr) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    if (created != nullptr) {
      *created = true;
    }
    return std::nullopt;
  }
  if (errno == EEXIST) {
    return std::nullopt;
  }
  return fmt::format("cannot create {}: {}", dir, std::strerror(errno));
}

std::string hashed_name(const std::string& dir, const std::string& preferred) {
  return fmt::format("{}/{:016x}.sock", dir, fnv1a(preferred));
}

} // namespace

NotifyPath notify_path_for(const std::string& state_dir, const std::string& service,
                           const std::string& tmp_root) {
  NotifyPath preferred{state_dir + "/notify", state_dir + "/notify/" + service + ".sock"};
  if (preferred.path.size() <= k_max_socket_path) {
    return preferred;
  }
  const std::string dir = fmt::format("{}/luvsup-{}", tmp_root, ::geteuid());
  return {dir, hashed_name(dir, preferred.path)};
}

NotifyPath notify_path_for_user(const std::string& state_dir, const std::string& service, uid_t uid,
                                const std::string& tmp_root) {
  const std::string dir = fmt::format("{}/luvsup-{}", tmp_root, uid);
  return {dir, hashed_name(dir, state_dir + "/notify/" + service + ".sock")};
}

std::optional<std::string> ensure_private_dir(const std::string& dir, uid_t owner, gid_t group) {
  // Parents first: the state directory may not exist before the first start.
  for (size_t slash = dir.find('/', 1); slash != std::string::npos;
       slash = dir.find('/', slash + 1)) {
    if (auto error = make_one(dir.substr(0, slash))) {
      return error;
    }
  }
  bool created = false;
  if (auto error = make_one(dir, &created)) {
    return error;
  }
  // Through a descriptor opened without following links: in /tmp, another
  // user could swap the name for a symlink between a check and a chmod.
  os::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOTDIR || errno == ELOOP) {
      return fmt::format("{} is not a directory", dir);
    }
    return fmt::format("cannot open {}: {}", dir, std::strerror(errno));
  }
  if (created && owner != ::geteuid() && ::fchown(fd.get(), owner, group) != 0) {
    return fmt::format("cannot hand {} to uid {}: {}", dir, owner, std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return fmt::format("cannot inspect {}: {}", dir, std::strerror(errno));
  }
  if (st.st_uid != owner) {
    return fmt::format("{} is owned by uid {}, not {}", dir, st.st_uid, owner);
  }
  if ((st.st_mode & 07777) != 0700 && ::fchmod(fd.get(), 0700) != 0) {
    return fmt::format("cannot make {} private (mode 0700): {}", dir, std::strerror(errno));
  }
  return std::nullopt;
}

} // namespace luvsup::readiness
