// Helpers for the Lua tests: a temporary directory for stack files, a Lua
// evaluator and a shortcut that loads a stack and returns its error.
#pragma once

#include "lua/data_dir.hpp"
#include "lua/lua_state.hpp"
#include "lua/stack_loader.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

namespace luvsup::test {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "luvsup-test-XXXXXX").string();
    m_path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::string& path() const { return m_path; }

  // Writes `content` to `name` (creating directories) and returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    const std::filesystem::path file = std::filesystem::path(m_path) / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << content;
    return file.string();
  }

private:
  std::string m_path;
};

// The directory of the checked-in fixtures.
inline std::string fixtures_dir() {
  return lua::find_data_dir() + "/tests/unit/fixtures";
}

// Writes `stack` as stack.lua in a temp dir, loads it, and returns the error
// message ("" when it loaded).
inline std::string load_error(const std::string& stack) {
  TempDir dir;
  auto result = lua::load_stack(dir.write("stack.lua", stack));
  if (auto* err = std::get_if<lua::LoadError>(&result)) {
    // Messages name the file as given: keep only its base name for the tests.
    std::string msg = err->message;
    const std::string prefix = dir.path() + "/";
    for (size_t at; (at = msg.find(prefix)) != std::string::npos;) {
      msg.erase(at, prefix.size());
    }
    return msg;
  }
  return "";
}

// Runs Lua `code` (a chunk that returns one value) with luvsup's library and
// the fixtures on package.path, and returns tostring() of the result, or
// "error: ..." when it raised.
inline std::string eval(lua::LuaState& state, const std::string& code,
                        lua::Budget budget = lua::k_call_budget) {
  std::string result;
  const std::string path = lua::package_path(fixtures_dir(), lua::find_data_dir(), "");
  auto error = state.run(
      [&](lua_State* L) {
        lua_getglobal(L, "package");
        lua_pushstring(L, path.c_str());
        lua_setfield(L, -2, "path");
        lua_pop(L, 1);
        if (luaL_loadbuffer(L, code.data(), code.size(), "=test") != LUA_OK) {
          lua_error(L);
        }
        lua_call(L, 0, 1);
        result = luaL_tolstring(L, -1, nullptr);
      },
      budget);
  return error ? "error: " + *error : result;
}

}  // namespace luvsup::test
