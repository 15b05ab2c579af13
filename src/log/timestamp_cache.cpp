#include "log/timestamp_cache.hpp"

#include <cstring>

namespace luvsup::log {

std::string_view TimestampCache::now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return format(ts);
}

std::string_view TimestampCache::format(const timespec& ts) {
  const long milli = ts.tv_nsec / 1000000;
  if (ts.tv_sec != m_second) {
    tm local{};
    const time_t secs = ts.tv_sec;
    localtime_r(&secs, &local);
    // Years past 9999 would widen the field; the format promises 23 bytes.
    if (std::strftime(m_text, sizeof m_text, "%Y-%m-%dT%H:%M:%S", &local) != 19) {
      std::memcpy(m_text, "9999-12-31T23:59:59", 19);
    }
    std::memcpy(m_text + 19, ".000", 5);
    m_second = ts.tv_sec;
    m_milli = -1;
  }
  if (milli != m_milli) {
    m_text[20] = static_cast<char>('0' + milli / 100);
    m_text[21] = static_cast<char>('0' + milli / 10 % 10);
    m_text[22] = static_cast<char>('0' + milli % 10);
    m_milli = milli;
  }
  return {m_text, 23};
}

TimestampCache& loop_timestamps() {
  thread_local TimestampCache cache;
  return cache;
}

} // namespace luvsup::log
