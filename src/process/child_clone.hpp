// Creating the child that runs exec_child, in the cheapest way the machine
// allows.
//
// fork() copies luvsup's page tables and makes every page copy-on-write;
// execve then tears the copy down again, and luvsup takes a page fault for
// each page it writes to afterwards: most of the cost of a start. Like
// posix_spawn, clone_child shares the parent's memory with the child
// (CLONE_VM | CLONE_VFORK: the parent is suspended until the child execs or
// exits) and runs the child on a stack of its own. Unlike posix_spawn it can
// create the child in a cgroup (clone3 with CLONE_INTO_CGROUP).
//
// The child touches only its own stack, reads `plan` and, on a failure,
// writes the parent's ChildFailure (as glibc's posix_spawn writes its
// args->err): exec_child is made of async-signal-safe calls that allocate
// nothing. glibc exposes no clone3 wrapper that runs a function on a new
// stack, so the call is a few lines of assembly on x86-64; elsewhere it is
// fork() (and clone3 for the cgroup), reporting through a pipe.
#pragma once

#include "process/child_setup.hpp"

#include <sys/types.h>

namespace luvsup::process {

// Starts a child that runs exec_child(plan), in the cgroup whose directory
// `cgroup_dir_fd` is open (-1: luvsup's own cgroup). Returns the child's pid
// once it has called execve or exited, with `failure` saying which step
// before execve failed (failure.step != 0: the child has exited or is about
// to, and the caller reaps it), or -1 with errno when the kernel refused (an
// old kernel without clone3, a cgroup a child cannot be created in). A child
// sharing luvsup's memory writes its failure into `failure` itself; plan's
// failure and report_fd are not used.
pid_t clone_child(const ChildPlan& plan, int cgroup_dir_fd, ChildFailure& failure);

// What clone_child does where the child cannot share luvsup's memory: fork()
// (clone3 without CLONE_VM for the cgroup), the failure sent back through a
// close-on-exec pipe. A report that cannot be read is failure step `report`
// with the read's errno, the child SIGKILLed; a pipe that cannot be made is
// step `report_pipe` and -1 with errno (no child).
pid_t fork_child(const ChildPlan& plan, int cgroup_dir_fd, ChildFailure& failure);

}  // namespace luvsup::process
