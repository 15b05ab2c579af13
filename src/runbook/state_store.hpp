// The values runbooks keep with state.set and read back with state.get.
//
// One StateStore per luvsup process, outside every Lua state, so values
// survive reloads (a reload's new Lua state reads what the old one wrote).
// Values are kept as JSON text (runbook/lua_json.hpp converts), so nothing of
// a Lua state is referenced from here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace luvsup::runbook {

class StateStore {
public:
  // The JSON text stored under `key`, or nullopt.
  [[nodiscard]] std::optional<std::string> get(std::string_view key) const;
  // Stores `json` under `key`, replacing what was there.
  void set(std::string_view key, std::string json);
  // Forgets `key` (nothing happens when it is not set).
  void erase(std::string_view key);
  [[nodiscard]] size_t size() const { return m_values.size(); }

private:
  std::map<std::string, std::string, std::less<>> m_values;
};

} // namespace luvsup::runbook
