// Matching output lines against Lua patterns, with Lua's own string.find.
//
// `ready = { log = "pattern" }` takes a Lua pattern, so it is matched by Lua
// itself rather than by a reimplementation: one small LuaState of luvsup's,
// in which no user code ever runs, calls string.find(line, pattern) under
// LuaState::run (protected, budgeted, memory-capped). The state is shared by
// every service and is created on first use.
#pragma once

#include "lua/lua_state.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace luvsup::readiness {

class LineMatcher {
public:
  LineMatcher() = default;
  LineMatcher(const LineMatcher&) = delete;
  LineMatcher& operator=(const LineMatcher&) = delete;

  // Whether `line` contains a match for the Lua pattern `pattern`
  // (string.find, so "^" anchors at the line start). Returns the Lua error
  // instead for a malformed pattern ("malformed pattern (ends with '%')") or
  // when Lua cannot run.
  std::variant<bool, std::string> find(std::string_view line, const std::string& pattern);

  static constexpr size_t k_memory_limit = 4u << 20;

private:
  std::unique_ptr<lua::LuaState> m_lua;
};

} // namespace luvsup::readiness
