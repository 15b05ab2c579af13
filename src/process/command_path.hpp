// Finding the file a service's argv[0] names, as execvp would, but in the
// parent: the search needs the child's PATH and memory, and a failure is
// reported as a clear error instead of a child that exits 127.
#pragma once

#include "process/child_env.hpp"
#include "process/launch_spec.hpp"

#include <string>
#include <variant>

namespace luvsup::process {

// argv0 with a '/' is taken as it is (relative ones against `cwd`, where the
// child will be). Otherwise each entry of `search_path` is tried in order (an
// empty entry means the current directory, as for execvp); the first regular
// file with an execute bit wins. Returns the path to execve, or a LaunchError
// "exec <path>" with ENOENT (nothing found) or EACCES (found only files that
// cannot be executed), as execvp would report.
std::variant<std::string, LaunchError> find_command(const std::string& argv0,
                                                    const std::string& search_path,
                                                    const std::string& cwd);

// The PATH a child with environment `env` is searched in: its own PATH, else
// luvsup's, else execvp's fallback "/usr/local/bin:/usr/bin:/bin".
std::string search_path_of(const EnvList& env);

}  // namespace luvsup::process
