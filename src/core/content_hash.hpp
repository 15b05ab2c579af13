// A fast, stable 64-bit hash of bytes (FNV-1a), for telling whether a file or
// a fingerprint changed between two reloads. Not for security.
#pragma once

#include <cstdint>
#include <string_view>

namespace luvsup::core {

inline uint64_t content_hash(std::string_view bytes) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (const char c : bytes) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  return h;
}

}  // namespace luvsup::core
