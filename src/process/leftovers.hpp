// Stopping what a killed luvsup left running, before a new run starts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace luvsup::process {

// Finds the leftovers of a previous run of the stack and stops them:
// - each record in state_dir whose pid is alive with the recorded start time
//   (a mismatch means the pid was reused: that process is left alone), with
//   its process group and every process tagged with that service;
// - every other process whose LUVSUP_SERVICE tag starts with "<stack_hash>/".
// Each is logged ("leftover from a previous run: {service} pid {pid}; stopping
// it"), sent SIGTERM (and SIGCONT, so a stopped one can act on it), with the
// verified process groups too; after `timeout` seconds whatever is left gets
// SIGKILL. Waits by polling /proc, which blocks: call it only at start, before
// any service runs. Zombies count as gone (their parent reaps them).
// Returns how many leftover processes were found.
size_t stop_leftovers(const std::string& state_dir, std::string_view stack_hash, double timeout);

}  // namespace luvsup::process
