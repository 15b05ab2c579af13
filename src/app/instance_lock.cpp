#include "app/instance_lock.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace luvsup::app {

std::variant<InstanceLock, std::string> InstanceLock::acquire(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return fmt::format("cannot create the state directory {}: {}", state_dir, ec.message());
  }
  ::chmod(state_dir.c_str(), 0700);
  const std::string path = state_dir + "/lock";
  os::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    return fmt::format("cannot open {}: {}", path, std::strerror(errno));
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      return fmt::format("cannot lock {}: {}", path, std::strerror(errno));
    }
    char buf[32] = {};
    const ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    const std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
    return fmt::format("this stack is already supervised by luvsup pid {} (lock {})",
                       holder.substr(0, holder.find('\n')), path);
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
    return fmt::format("cannot write {}: {}", path, std::strerror(errno));
  }
  return InstanceLock(std::move(fd));
}

}  // namespace luvsup::app
