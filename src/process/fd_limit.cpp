#include "process/fd_limit.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

namespace luvsup::process {

std::vector<core::ResourceLimit> raise_open_file_limit() {
  rlimit original{};
  if (getrlimit(RLIMIT_NOFILE, &original) != 0) {
    spdlog::warn("cannot read the open-file limit: {}", std::strerror(errno));
    return {};
  }
  if (original.rlim_cur < original.rlim_max) {
    rlimit raised = original;
    raised.rlim_cur = original.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      spdlog::warn("cannot raise the open-file limit to {}: {}", original.rlim_max,
                   std::strerror(errno));
    }
  }
  return {core::ResourceLimit{RLIMIT_NOFILE, original.rlim_cur, original.rlim_max}};
}

}  // namespace luvsup::process
