#include "log/record_format.hpp"

#include <cstring>

namespace luvsup::log {

uint64_t original_size_of_records(std::string_view records) {
  uint64_t total = 0;
  while (!records.empty()) {
    const auto* nl = static_cast<const char*>(std::memchr(records.data(), '\n', records.size()));
    const size_t len = nl ? static_cast<size_t>(nl - records.data()) : records.size();
    std::string_view rec = records.substr(0, len);
    records.remove_prefix(nl ? len + 1 : len);
    // After "<timestamp> " comes the mark, or a 3-letter stream tag and then the mark.
    size_t at = k_timestamp_width + 1;
    if (rec.size() > at && (rec[at] == 'o' || rec[at] == 'e')) {
      at += 4;
    }
    if (rec.size() < at + 2) {
      continue; // not a record we wrote; counts for nothing
    }
    total += original_size(rec[at], rec.size() - at - 2);
  }
  return total;
}

} // namespace luvsup::log
