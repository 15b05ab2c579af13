#include "runbook/state_store.hpp"

namespace luvsup::runbook {

std::optional<std::string> StateStore::get(std::string_view key) const {
  auto it = m_values.find(key);
  if (it == m_values.end()) {
    return std::nullopt;
  }
  return it->second;
}

void StateStore::set(std::string_view key, std::string json) {
  auto it = m_values.find(key);
  if (it == m_values.end()) {
    m_values.emplace(std::string(key), std::move(json));
  } else {
    it->second = std::move(json);
  }
}

void StateStore::erase(std::string_view key) {
  auto it = m_values.find(key);
  if (it != m_values.end()) {
    m_values.erase(it);
  }
}

} // namespace luvsup::runbook
