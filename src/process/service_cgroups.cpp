#include "process/service_cgroups.hpp"

#include "os/file_text.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace luvsup::process {

namespace {

// Where the cgroup2 hierarchy is mounted, from /proc/self/mountinfo.
std::optional<std::string> cgroup2_mount() {
  const std::string text = os::read_file("/proc/self/mountinfo").value_or("");
  // "id parent devices root mount_point ... - cgroup2 ..."
  for (const std::string_view line : os::lines(text)) {
    const auto dash = line.find(" - ");
    if (dash == std::string_view::npos || line.substr(dash + 3, 8) != "cgroup2 ") {
      continue;
    }
    const auto f = os::fields(line.substr(0, dash));
    if (f.size() >= 5 && f[3] == "/") {
      return std::string(f[4]);
    }
  }
  return std::nullopt;
}

// luvsup's own cgroup v2 path ("0::/some/path" in /proc/self/cgroup).
std::optional<std::string> own_cgroup() {
  const std::string text = os::read_file("/proc/self/cgroup").value_or("");
  for (const std::string_view line : os::lines(text)) {
    if (line.substr(0, 3) == "0::") {
      return std::string(line.substr(3));
    }
  }
  return std::nullopt;
}

std::vector<pid_t> read_pids(const std::string& path) {
  std::vector<pid_t> pids;
  const std::string text = os::read_file(path).value_or("");
  for (const std::string_view line : os::lines(text)) {
    const auto f = os::fields(line);
    auto pid = f.empty() ? std::nullopt : os::parse_number<pid_t>(f[0]);
    if (!pid) {
      break;  // as far as the numbers go
    }
    pids.push_back(*pid);
  }
  return pids;
}

}  // namespace

std::optional<std::string> ServiceCgroups::stack_dir(std::string_view stack_hash) {
  auto mount = cgroup2_mount();
  auto own = own_cgroup();
  if (!mount || !own) {
    return std::nullopt;
  }
  std::string base = *mount + (*own == "/" ? "" : *own);
  if (::access(base.c_str(), W_OK) != 0) {
    return std::nullopt;
  }
  return base + "/luvsup-" + std::string(stack_hash);
}

std::optional<ServiceCgroups> ServiceCgroups::open(std::string_view stack_hash) {
  auto dir = stack_dir(stack_hash);
  if (!dir) {
    return std::nullopt;
  }
  if (::mkdir(dir->c_str(), 0755) != 0 && errno != EEXIST) {
    return std::nullopt;
  }
  return ServiceCgroups(*dir);
}

os::UniqueFd ServiceCgroups::join_handle(const std::string& service) const {
  const std::string dir = m_dir + "/" + service;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return os::UniqueFd{};
  }
  return os::UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

std::optional<std::set<std::string>> ServiceCgroups::services() const {
  std::set<std::string> names;
  DIR* dir = ::opendir(m_dir.c_str());
  if (dir == nullptr) {
    return errno == ENOENT ? std::optional(names) : std::nullopt;
  }
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      break;
    }
    const std::string_view name = entry->d_name;
    // DT_UNKNOWN counts: a name too many only costs an rmdir.
    if ((entry->d_type == DT_DIR || entry->d_type == DT_UNKNOWN) && name != "." && name != "..") {
      names.emplace(name);
    }
  }
  const bool complete = errno == 0;
  ::closedir(dir);
  return complete ? std::optional(std::move(names)) : std::nullopt;
}

std::vector<pid_t> ServiceCgroups::members(const std::string& service) const {
  return read_pids(m_dir + "/" + service + "/cgroup.procs");
}

bool ServiceCgroups::kill(const std::string& service) const {
  os::UniqueFd fd(::open((m_dir + "/" + service + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC));
  return fd && ::write(fd.get(), "1", 1) == 1;
}

bool ServiceCgroups::remove(const std::string& service) const {
  // EBUSY while a process is left: it stays for a successor to find.
  return ::rmdir((m_dir + "/" + service).c_str()) == 0 || errno == ENOENT;
}

std::vector<CgroupMember> cgroup_tree_members(const std::string& dir) {
  std::vector<CgroupMember> members;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) {
      for (pid_t pid : read_pids(entry.path().string() + "/cgroup.procs")) {
        members.push_back({entry.path().filename().string(), pid});
      }
    }
  }
  return members;
}

}  // namespace luvsup::process
