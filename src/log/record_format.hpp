// The service-log record format: an interface that users and tests parse.
//
//   <timestamp> <mark> <payload>\n                 one stream per file
//   <timestamp> <out|err> <mark> <payload>\n       stdout and stderr through
//                                                  separate pipes into one file
//
// timestamp is local time "YYYY-MM-DDTHH:MM:SS.mmm" (23 bytes). The payload is
// the service's bytes verbatim and never contains '\n'. The original stream is
// the concatenation of the payloads, with "\n" added after each '|' record.
#pragma once

#include "log/byte_buffer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace luvsup::log {

namespace mark {
inline constexpr char k_line = '|';         // a complete line; a newline followed
inline constexpr char k_continued = '+';    // piece of a longer line, continued next
inline constexpr char k_unterminated = '%'; // output ended without a newline
inline constexpr char k_dropped = '!';      // luvsup: N bytes dropped (reason)
} // namespace mark

inline constexpr size_t k_timestamp_width = 23;

// Bytes of the original stream a record stands for (its payload, plus the
// newline of a '|' record).
constexpr uint64_t original_size(char mark_char, size_t payload_size) {
  if (mark_char == mark::k_dropped) {
    return 0;
  }
  return payload_size + (mark_char == mark::k_line ? 1 : 0);
}

// Appends one formatted record. `tag` is empty, "out" or "err".
inline void append_record(ByteBuffer& out, std::string_view timestamp, std::string_view tag,
                          char mark_char, std::string_view payload) {
  // The head is assembled on the stack first: one bounded copy, then the payload.
  char head[k_timestamp_width + 8];
  size_t n = std::min(timestamp.size(), k_timestamp_width);
  std::memcpy(head, timestamp.data(), n);
  head[n++] = ' ';
  if (!tag.empty()) {
    const size_t t = std::min<size_t>(tag.size(), 3);
    std::memcpy(head + n, tag.data(), t);
    n += t;
    head[n++] = ' ';
  }
  head[n++] = mark_char;
  head[n++] = ' ';
  char* p = out.extend(n + payload.size() + 1);
  std::memcpy(p, head, n);
  if (!payload.empty()) {
    std::memcpy(p + n, payload.data(), payload.size());
  }
  p[n + payload.size()] = '\n';
}

// Sums original_size() over whole formatted records in `records`, which must
// start at a record boundary. Used to count what a failed write dropped.
uint64_t original_size_of_records(std::string_view records);

} // namespace luvsup::log
