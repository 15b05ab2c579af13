// One cgroup v2 per service, where luvsup may create cgroups.
//
// The environment tag and parent links find most of a service's processes,
// but a daemon that clears its environment, calls setsid and outlives its
// parent escapes them. A cgroup does not: every child joins its service's
// cgroup before exec, and membership is inherited by every descendant. When
// luvsup cannot create cgroups (no cgroup2 mount, not writable), open()
// returns nothing and the tag is used alone.
//
// Layout: <luvsup's own cgroup>/luvsup-<stack hash>/<service>.
#pragma once

#include "os/unique_fd.hpp"

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace luvsup::process {

class ServiceCgroups {
public:
  // The stack's cgroup directory, created if needed; nullopt when cgroups
  // cannot be used here.
  static std::optional<ServiceCgroups> open(std::string_view stack_hash);

  // The directory of the stack's cgroups, if they can be used, without
  // creating anything (for finding leftovers).
  static std::optional<std::string> stack_dir(std::string_view stack_hash);

  // Creates the service's cgroup if needed and returns its directory open
  // (for the child to be created in, or to join through its cgroup.procs),
  // or an invalid fd on failure. The cgroup is kept across restarts: making
  // one and moving a process into it cost the kernel far more than a spawn.
  os::UniqueFd join_handle(const std::string& service) const;
  // The names of the service cgroups there are now (every subdirectory;
  // none while the stack's directory does not exist), or nullopt when the
  // directory cannot be listed.
  std::optional<std::set<std::string>> services() const;
  // Every process in the service's cgroup.
  std::vector<pid_t> members(const std::string& service) const;
  // SIGKILLs every process in the service's cgroup at once (cgroup.kill).
  bool kill(const std::string& service) const;
  // Removes the service's cgroup if it is empty; false when it is not (a
  // process is left in it).
  bool remove(const std::string& service) const;
  const std::string& dir() const { return m_dir; }

private:
  explicit ServiceCgroups(std::string dir) : m_dir(std::move(dir)) {}
  std::string m_dir;
};

struct CgroupMember {
  std::string service;
  pid_t pid;
};
// Every process in the service cgroups below a stack's cgroup directory.
std::vector<CgroupMember> cgroup_tree_members(const std::string& dir);

}  // namespace luvsup::process
