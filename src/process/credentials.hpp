// Resolving a service's user and group in the parent (NSS is not usable
// between fork and exec).
#pragma once

#include "process/launch_spec.hpp"

#include <sys/types.h>

#include <string>
#include <variant>
#include <vector>

namespace luvsup::process {

struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // initgroups(3) semantics: gid plus the user's groups
  std::string name;           // for USER and LOGNAME
  std::string home;           // for HOME; empty when the user has no passwd entry
};

// Resolves `user` (a name, or a number without a passwd entry) and `group`
// (empty = the user's primary group). Errors: LaunchError{0, "user \"x\": no
// such user"} and the same for groups, or the errno of a failing NSS lookup.
std::variant<Credentials, LaunchError> resolve_credentials(const std::string& user,
                                                           const std::string& group);

// Resolves a group alone (a service that sets group but not user).
std::variant<gid_t, LaunchError> resolve_group(const std::string& group);

}  // namespace luvsup::process
