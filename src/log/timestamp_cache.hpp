// Formats the current local time as "YYYY-MM-DDTHH:MM:SS.mmm" (23 bytes),
// caching the text: localtime_r runs once per second, the milliseconds are
// patched in place, and a call within the same millisecond costs a clock read.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

namespace luvsup::log {

class TimestampCache {
public:
  // Returns the current time's text; valid until the next call.
  std::string_view now();
  // The text for a given wall-clock time (for tests and callers with a clock).
  std::string_view format(const timespec& ts);

private:
  char m_text[24] = {};
  int64_t m_second = INT64_MIN;
  long m_milli = -1;
};

// The loop thread's cache, shared by every service's output.
TimestampCache& loop_timestamps();

} // namespace luvsup::log
