#include "readiness/line_matcher.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <new>
#include <stdexcept>

namespace luvsup::readiness {

std::variant<bool, std::string> LineMatcher::find(std::string_view line,
                                                  const std::string& pattern) {
  if (!m_lua) {
    try {
      m_lua = std::make_unique<lua::LuaState>(k_memory_limit);
    } catch (const std::exception& e) {
      return std::string("cannot start Lua to match the pattern: ") + e.what();
    }
  }
  bool found = false;
  // Nothing with a destructor lives inside the body: a Lua error longjmps out.
  auto error = m_lua->run([&line, &pattern, &found](lua_State* L) {
    lua_getglobal(L, "string");                   // stack: string
    lua_getfield(L, -1, "find");                  // stack: string, find
    lua_pushlstring(L, line.data(), line.size()); // stack: string, find, line
    lua_pushlstring(L, pattern.data(), pattern.size());
    lua_call(L, 2, 1); // stack: string, start|nil
    found = !lua_isnil(L, -1);
  });
  if (error) {
    // The first line of the message; the traceback only shows this function.
    return error->substr(0, error->find('\n'));
  }
  return found;
}

} // namespace luvsup::readiness
