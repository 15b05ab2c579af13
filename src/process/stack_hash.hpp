// A short, stable name for a stack, derived from the real path of its file.
//
// It prefixes the environment tag of every child (LUVSUP_SERVICE=<hash>/<name>)
// so that a later run of the same stack can recognise the leftovers of a killed
// run, while two different stacks on one machine never touch each other.
#pragma once

#include <string>

namespace luvsup::process {

// 12 lowercase hex characters: the top 48 bits of FNV-1a 64 of `stack_realpath`.
// The caller resolves the real path (realpath(3)) so that two spellings of one
// file give one hash.
std::string stack_hash(const std::string& stack_realpath);

}  // namespace luvsup::process
