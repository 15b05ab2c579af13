// One supervisor per stack: an exclusive flock on <state_dir>/lock, held for
// the whole run. The kernel drops it when luvsup dies, however it dies, so a
// killed luvsup never leaves a stale lock behind.
#pragma once

#include "os/unique_fd.hpp"

#include <string>
#include <variant>

namespace luvsup::app {

class InstanceLock {
public:
  // Takes the lock, or says who holds it ("... is already supervised by
  // luvsup pid 4242") or why it could not be taken.
  static std::variant<InstanceLock, std::string> acquire(const std::string& state_dir);

private:
  explicit InstanceLock(os::UniqueFd fd) : m_fd(std::move(fd)) {}
  os::UniqueFd m_fd;
};

}  // namespace luvsup::app
