#include "process/stack_hash.hpp"

#include <cstdint>
#include <cstdio>

namespace luvsup::process {

std::string stack_hash(const std::string& stack_realpath) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : stack_realpath) {
    hash ^= c;
    hash *= 1099511628211ull;  // FNV-1a 64 prime
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash));
  return std::string(buf, 12);
}

}  // namespace luvsup::process
