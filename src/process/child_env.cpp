#include "process/child_env.hpp"

#include "process/launch_spec.hpp"

#include <algorithm>
#include <array>
#include <mutex>

extern char** environ;  // NOLINT: POSIX

namespace luvsup::process {

namespace {
constexpr std::array<std::string_view, 7> k_dropped = {
    "NOTIFY_SOCKET", "LISTEN_PID",    "LISTEN_FDS",    "LISTEN_FDNAMES",
    "WATCHDOG_PID",  "WATCHDOG_USEC", k_service_tag_var,
};

std::string_view key_of(std::string_view entry) {
  auto eq = entry.find('=');
  return eq == std::string_view::npos ? entry : entry.substr(0, eq);
}
}  // namespace

bool is_dropped_variable(std::string_view name) {
  for (auto dropped : k_dropped) {
    if (name == dropped) {
      return true;
    }
  }
  return false;
}

EnvList EnvList::copy_environ() {
  // One pass, no search per variable, unless a name appears twice (then
  // set() keeps the last value in the first place).
  EnvList list;
  std::vector<std::string_view> keys;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0 || is_dropped_variable(entry.substr(0, eq))) {
      continue;  // malformed entries would confuse getenv in the child
    }
    list.m_entries.emplace_back(entry);
    keys.push_back(entry.substr(0, eq));
  }
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) == keys.end()) {
    return list;
  }
  EnvList unique;
  for (const auto& entry : list.m_entries) {
    const auto eq = entry.find('=');
    unique.set(std::string_view(entry).substr(0, eq), std::string_view(entry).substr(eq + 1));
  }
  return unique;
}

EnvList EnvList::inherited() {
  // Every start needs it, and luvsup's environment changes only at its start:
  // the filtered copy is made again only when an entry of environ is not the
  // one it was made from (setenv and putenv store a new pointer).
  static std::mutex mutex;
  static std::vector<const char*> made_from;
  static EnvList copy;
  std::lock_guard lock(mutex);
  size_t n = 0;
  bool same = true;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e, ++n) {
    same = same && n < made_from.size() && made_from[n] == *e;
  }
  if (!same || n != made_from.size()) {
    copy = copy_environ();
    made_from.assign(environ, environ + n);
  }
  return copy;
}

void EnvList::set(std::string_view key, std::string_view value) {
  std::string entry;
  entry.reserve(key.size() + 1 + value.size());
  entry.append(key).append("=").append(value);
  for (auto& existing : m_entries) {
    if (key_of(existing) == key) {
      existing = std::move(entry);
      return;
    }
  }
  m_entries.push_back(std::move(entry));
}

std::optional<std::string_view> EnvList::get(std::string_view key) const {
  for (const auto& entry : m_entries) {
    if (key_of(entry) == key) {
      return std::string_view(entry).substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

}  // namespace luvsup::process
