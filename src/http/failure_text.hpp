// What both HTTP engines (libcurl's and the direct one) report when a
// request gets no usable response, word for word: a probe's error reads the
// same whichever engine sent it, and a repeated failure is logged once.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string>

namespace luvsup::http {

// Response header bytes accepted before a request is failed: a health
// endpoint that sends more is broken, and its headers must not fill memory.
inline constexpr size_t k_max_header_bytes = 64 * 1024;

// The server closed or reset the connection before any response.
inline constexpr const char* k_closed_without_answer =
    "the server closed the connection without answering";

inline std::string timed_out_text(double timeout) {
  return fmt::format("timed out after {}s", timeout);
}

inline std::string headers_too_large_text() {
  return fmt::format("response headers larger than {} KiB", k_max_header_bytes / 1024);
}

} // namespace luvsup::http
