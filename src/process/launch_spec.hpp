// Everything a child needs, resolved in the parent before fork.
//
// Between fork and exec the child may only make async-signal-safe calls: no
// malloc, no NSS (getpwnam), no PATH search through the environment. So the
// parent resolves the command path, the user and groups, the environment and
// the limits here, and the launcher only copies pointers into syscalls.
#pragma once

#include "core/service_spec.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace luvsup::process {

struct LaunchSpec {
  std::string path;               // what execve runs: absolute, or relative to cwd
  std::vector<std::string> argv;  // argv[0] as the service wrote it
  std::vector<std::string> env;   // KEY=VALUE, the child's full environment
  std::string cwd;                // empty = luvsup's own
  std::optional<uid_t> uid;       // set only when luvsup is root and a user is given
  std::optional<gid_t> gid;
  std::vector<gid_t> groups;      // supplementary groups; applied only when uid is set
  std::optional<mode_t> umask;
  std::vector<core::ResourceLimit> limits;  // applied in order
  std::string stdin_path = "/dev/null";
};

// Why a child could not be started. `what` names the step and its object
// ("exec /usr/bin/nope", "chdir /srv/app", "setuid 65534", "open stdin /x",
// "user \"nope\""); `err` is the errno, or 0 when there is none (unknown user).
struct LaunchError {
  int err = 0;
  std::string what;
  // "exec /usr/bin/nope: No such file or directory (ENOENT)"; just `what` when
  // err is 0.
  [[nodiscard]] std::string message() const;
};

struct ChildContext {
  std::string tag;  // "<stackhash>/<name>", exported as LUVSUP_SERVICE
  std::vector<core::ResourceLimit> base_limits;  // limits luvsup had before raising them
  // Variables of luvsup's own protocols with the service (NOTIFY_SOCKET,
  // WATCHDOG_USEC): set after spec.env, so a service's env cannot point them
  // elsewhere.
  std::vector<std::pair<std::string, std::string>> supervisor_env = {};
};

// The environment variable that marks every child (and, by inheritance, its
// descendants) as belonging to a service.
inline constexpr const char* k_service_tag_var = "LUVSUP_SERVICE";

// Resolves `spec` for launching:
// - env: luvsup's environ minus the systemd activation variables (NOTIFY_SOCKET,
//   LISTEN_*, WATCHDOG_*) and any inherited LUVSUP_SERVICE; then HOME, USER and
//   LOGNAME of the service's user when one is given; then spec.env in order
//   (later wins); then ctx.supervisor_env; then LUVSUP_SERVICE=<tag> last, so a service cannot hide from
//   its own supervisor.
// - path: argv[0] when it contains '/', else the first executable match in the
//   child's PATH (luvsup's PATH when the child has none, then a default).
// - uid, gid, groups: only when luvsup runs as root (otherwise user and group
//   are ignored, since an unprivileged luvsup could not switch anyway); names
//   or numbers; groups follow initgroups(3) (getgrouplist).
// - limits: ctx.base_limits, each overridden by spec.limits of the same resource.
// Errors: a command that is not found (ENOENT) or not executable (EACCES), an
// unknown user or group.
std::variant<LaunchSpec, LaunchError> prepare_launch(const core::ServiceSpec& spec,
                                                     const ChildContext& ctx);

}  // namespace luvsup::process
