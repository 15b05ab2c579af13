// Runs one control command (status, start, stop, ...) against a running
// luvsup and returns the exit code: 0 ok, 1 the request failed, 3 no luvsup
// is running for the stack, 4 the socket refused this user.
#pragma once

#include "cli/control_options.hpp"

namespace luvsup::cli {

int control_command(const ControlArgs& args);

} // namespace luvsup::cli
