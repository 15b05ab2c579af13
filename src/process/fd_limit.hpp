// luvsup's own open-file limit.
//
// A supervisor holds several descriptors per service (pipes, log files,
// probes), so it raises its soft RLIMIT_NOFILE to the hard limit at start. Its
// children must not inherit the raised limit (some programs allocate per
// possible fd, or use select()), so the original limits are returned and given
// back to every child unless the stack sets its own.
#pragma once

#include "core/service_spec.hpp"

#include <vector>

namespace luvsup::process {

// Raises the soft RLIMIT_NOFILE to the hard limit. Returns the limits as they
// were before (one entry, RLIMIT_NOFILE), to pass as ChildContext::base_limits.
// Returns an empty vector when the limit could not even be read; when raising
// fails the original is still returned and luvsup runs with it.
std::vector<core::ResourceLimit> raise_open_file_limit();

}  // namespace luvsup::process
