#include "process/child_env.hpp"

#include "process/launch_spec.hpp"

#include <array>

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

EnvList EnvList::inherited() {
  EnvList list;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0 || is_dropped_variable(entry.substr(0, eq))) {
      continue;  // malformed entries would confuse getenv in the child
    }
    list.set(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return list;
}

void EnvList::set(std::string_view key, std::string_view value) {
  std::string entry;
  entry.reserve(key.size() + 1 + value.size());
  entry.append(key).append("=").append(value);
  for (size_t i = 0; i < m_entries.size(); ++i) {
    if (key_of(m_entries[i]) == key) {
      m_entries[i] = std::move(entry);
      m_values[i] = std::string(value);
      return;
    }
  }
  m_entries.push_back(std::move(entry));
  m_values.emplace_back(value);
}

const std::string* EnvList::get(std::string_view key) const {
  for (size_t i = 0; i < m_entries.size(); ++i) {
    if (key_of(m_entries[i]) == key) {
      return &m_values[i];
    }
  }
  return nullptr;
}

}  // namespace luvsup::process
