#include "process/command_path.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace luvsup::process {

namespace {

// 0 when `path` can be run, else the errno execve would most likely give.
// Only the execute bits are checked: the real check, as the service's user,
// is execve's own, reported by the child to the launcher.
int check_executable(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return errno;
  }
  if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
    return EACCES;
  }
  return 0;
}

std::string join(const std::string& dir, std::string_view name) {
  if (dir.empty()) {
    return std::string(name);
  }
  std::string out = dir;
  if (out.back() != '/') {
    out += '/';
  }
  out.append(name);
  return out;
}

}  // namespace

std::variant<std::string, LaunchError> find_command(const std::string& argv0,
                                                    const std::string& search_path,
                                                    const std::string& cwd) {
  if (argv0.empty()) {
    return LaunchError{ENOENT, "exec (empty command)"};
  }
  if (argv0.find('/') != std::string::npos) {
    // Relative paths are checked where the child will chdir to; execve then
    // resolves them the same way after the chdir.
    std::string where = argv0.front() == '/' ? argv0 : join(cwd, argv0);
    if (int err = check_executable(where); err != 0) {
      return LaunchError{err, "exec " + where};
    }
    return argv0;
  }
  bool denied = false;
  std::string_view rest(search_path);
  while (true) {
    auto colon = rest.find(':');
    std::string_view dir = rest.substr(0, colon);
    std::string base = dir.empty() ? std::string(".") : std::string(dir);
    if (base.front() != '/') {
      base = join(cwd, base);
    }
    std::string candidate = join(base, argv0);
    int err = check_executable(candidate);
    if (err == 0) {
      return candidate;
    }
    denied = denied || err == EACCES;
    if (colon == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(colon + 1);
  }
  return LaunchError{denied ? EACCES : ENOENT, "exec " + argv0 + " (PATH=" + search_path + ")"};
}

std::string search_path_of(const EnvList& env) {
  // execvp's fallback when neither the child nor luvsup has a PATH.
  constexpr const char* k_default_path = "/usr/local/bin:/usr/bin:/bin";
  const auto child_path = env.get("PATH");
  const char* own_path = std::getenv("PATH");
  return child_path ? std::string(*child_path)
         : own_path != nullptr ? std::string(own_path)
                               : std::string(k_default_path);
}

}  // namespace luvsup::process
