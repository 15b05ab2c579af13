// Small files read whole and split into lines and fields, without iostreams:
// a stream's locale machinery would be the largest part of luvsup's code.
#pragma once

#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::os {

// The whole content of the file at `path` (a /proc file too: read to its
// end, not to its reported size), or nullopt with errno set when it cannot be
// opened or read. Reading stops once `limit` bytes or more are in.
std::optional<std::string> read_file(const std::string& path,
                                     size_t limit = std::numeric_limits<size_t>::max());

// The lines of `text`, without their '\n'; a last line without one counts.
std::vector<std::string_view> lines(std::string_view text);

// The fields of `line` separated by spaces and tabs.
std::vector<std::string_view> fields(std::string_view line);

// `field` as a whole decimal number of type T, if it is one.
template <typename T>
std::optional<T> parse_number(std::string_view field) {
  T value{};
  const char* end = field.data() + field.size();
  auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (ec != std::errc() || ptr != end || field.empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace luvsup::os
