// Where a service's notify socket lives.
//
// The socket goes in a 0700 directory of luvsup's, so that only luvsup's own
// user can send to it: <state_dir>/notify/<service>.sock. A socket path must
// fit sockaddr_un's sun_path (107 bytes and a NUL); a deeper state directory
// gets a short hashed name under /tmp/luvsup-<uid>/ (also 0700) instead.
//
// A service that runs as another user (luvsup is root, the service has
// `user`) cannot enter luvsup's directories: its socket goes in that user's
// own /tmp/luvsup-<uid>/ (0700, owned by the user), under the hashed name.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <variant>

namespace luvsup::readiness {

// The longest socket path bind(2) accepts (sun_path without its NUL).
inline constexpr size_t k_max_socket_path = 107;

struct NotifyPath {
  std::string dir;  // the 0700 directory, created by ensure_private_dir()
  std::string path; // dir + "/" + file name; at most k_max_socket_path bytes
};

// The preferred path when it fits, else the /tmp fallback (`tmp_root`
// replaces "/tmp" in tests). Pure: touches no file.
NotifyPath notify_path_for(const std::string& state_dir, const std::string& service,
                           const std::string& tmp_root = "/tmp");

// The path for a service running as `uid`: always the hashed name under
// <tmp_root>/luvsup-<uid>/.
NotifyPath notify_path_for_user(const std::string& state_dir, const std::string& service, uid_t uid,
                                const std::string& tmp_root = "/tmp");

// Creates `dir` (and its missing parents, with mode 0700) and makes sure it is
// a real directory owned by `owner` (default: luvsup's user) with mode 0700,
// fixing the mode when it is wrong. A directory luvsup creates for another
// owner is handed over to it (owner, group). Returns nullopt, or why it
// cannot be used ("/tmp/luvsup-1000 is owned by uid 0, not 1000").
std::optional<std::string> ensure_private_dir(const std::string& dir, uid_t owner = ::geteuid(),
                                              gid_t group = static_cast<gid_t>(-1));

} // namespace luvsup::readiness
