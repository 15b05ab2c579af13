// A registry reference to a Lua value, owned by C++ (luaL_ref / luaL_unref).
//
// Move-only; releasing it unrefs the value so the collector can free it. Each
// live reference is counted on its LuaState so tests can find leaks. A LuaRef
// must not outlive its LuaState: owners hold the state by shared_ptr and
// declare it before their references.
#pragma once

#include "lua/lua_state.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <utility>

namespace luvsup::lua {

class LuaRef {
public:
  LuaRef() = default;

  // Adopts `ref`, a reference made with luaL_ref(L, LUA_REGISTRYINDEX) on
  // `state` (typically inside LuaState::run, where luaL_ref may raise).
  LuaRef(LuaState& state, int ref) : m_state(&state), m_ref(ref) {
    if (valid()) {
      m_state->add_live_ref(1);
    }
  }
  LuaRef(const LuaRef&) = delete;
  LuaRef& operator=(const LuaRef&) = delete;
  LuaRef(LuaRef&& other) noexcept
      : m_state(std::exchange(other.m_state, nullptr)), m_ref(std::exchange(other.m_ref, LUA_NOREF)) {}
  LuaRef& operator=(LuaRef&& other) noexcept {
    if (this != &other) {
      reset();
      m_state = std::exchange(other.m_state, nullptr);
      m_ref = std::exchange(other.m_ref, LUA_NOREF);
    }
    return *this;
  }
  ~LuaRef() { reset(); }

  // True when the reference names a value (nil is not referenced).
  [[nodiscard]] bool valid() const { return m_state != nullptr && m_ref != LUA_NOREF && m_ref != LUA_REFNIL; }

  // Pushes the value (nil when invalid). Needs one free stack slot.
  void push(lua_State* L) const {
    if (valid()) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, m_ref);
    } else {
      lua_pushnil(L);
    }
  }

  // Releases the value. luaL_unref does not allocate, so this is safe anywhere.
  void reset() {
    if (valid()) {
      luaL_unref(m_state->get(), LUA_REGISTRYINDEX, m_ref);
      m_state->add_live_ref(-1);
    }
    m_state = nullptr;
    m_ref = LUA_NOREF;
  }

private:
  LuaState* m_state = nullptr;
  int m_ref = LUA_NOREF;
};

}  // namespace luvsup::lua
