#include "lua/embedded_module.hpp"
#include "lua/module_searcher.hpp"
#include "os/file_text.hpp"
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

extern "C" {
#include <lualib.h>
}

#include <filesystem>
#include <string>
#include <vector>

using luvsup::lua::EmbeddedModule;
using luvsup::lua::LuaState;
using luvsup::test::eval;
using luvsup::test::TempDir;

namespace {

namespace fs = std::filesystem;

std::string library_dir() { return luvsup::lua::find_data_dir() + "/lua"; }

// Runs `code` in `state` with only `lua_dir` on package.path.
std::string eval_in(LuaState& state, const std::string& lua_dir, const std::string& code) {
  return eval(state, "package.path = '" + lua_dir + "/?.lua'\n" + code);
}

// Loads luvsup.util from the library's file with `modules` as the embedded
// table, calls the chunk and returns tostring() of the module's `stem`, with
// how many modules came from bytecode.
std::pair<std::string, int> load_util(std::span<const EmbeddedModule> modules) {
  LuaState state;
  const std::string file = library_dir() + "/luvsup/util.lua";
  std::string result;
  auto error = state.run([&](lua_State* L) {
    if (luvsup::lua::load_module_file(L, "luvsup.util", file.c_str(), modules) != LUA_OK) {
      lua_error(L);
    }
    lua_call(L, 0, 1);  // stack: module
    lua_getfield(L, -1, "stem");
    result = luaL_tolstring(L, -1, nullptr);
  });
  return {error ? "error: " + *error : result, luvsup::lua::modules_from_bytecode(state.get())};
}

// The string `code` returns, run in a state that loads modules as plain Lua
// does (luaL_openlibs, package.searchers untouched).
std::string plain_lua_error(const std::string& code) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  std::string result;
  if (luaL_loadstring(L, code.c_str()) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK) {
    result = lua_tostring(L, -1);
  }
  lua_close(L);
  return result;
}

// Module functions called with bad arguments: their errors with the
// tracebacks up to the xpcall that caught them.
std::string failing_calls() {
  return "package.path = '" + library_dir() + "/?.lua'\n"
    "local util = require 'luvsup.util'\n"
    "local backoff = require 'luvsup.backoff'\n"
    "local _, a = xpcall(util.edit_distance, debug.traceback, nil, 'x')\n"
    "local _, b = xpcall(backoff.exponential, debug.traceback, { factor = 0.5 })\n"
    "local function upto_xpcall(s)\n"
    "  return s:sub(1, (select(2, s:find(\"in function 'xpcall'\"))))\n"
    "end\n"
    "return upto_xpcall(a) .. '\\n--\\n' .. upto_xpcall(b)";
}

}  // namespace

TEST_CASE("every module of the library is compiled into the binary") {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(library_dir() + "/luvsup")) {
    const std::string base = entry.path().filename().string();
    if (base.ends_with(".lua") && !base.starts_with("_")) {
      files.push_back("luvsup." + base.substr(0, base.size() - 4));
    }
  }
  CHECK(files.size() == luvsup::lua::embedded_modules().size());
  for (const std::string& name : files) {
    const auto& modules = luvsup::lua::embedded_modules();
    CHECK_MESSAGE(luvsup::lua::find_embedded_module(modules, name) != nullptr, name);
  }
}

TEST_CASE("the library's unchanged modules load from their embedded bytecode") {
  LuaState state;
  std::string code = "local n = 0\n";
  for (const EmbeddedModule& module : luvsup::lua::embedded_modules()) {
    code += "n = n + (require '" + std::string(module.name) + "' ~= nil and 1 or 0)\n";
  }
  CHECK(eval_in(state, library_dir(), code + "return n") ==
        std::to_string(luvsup::lua::embedded_modules().size()));
  CHECK(luvsup::lua::modules_from_bytecode(state.get()) ==
        static_cast<int>(luvsup::lua::embedded_modules().size()));
  // require's second result is the file, as with Lua's own searcher.
  CHECK(eval_in(state, library_dir(), "package.loaded['luvsup.util'] = nil\n"
                                      "return select(2, require 'luvsup.util')") ==
        library_dir() + "/luvsup/util.lua");
}

TEST_CASE("an edited copy of a module is parsed from its text and its change takes effect") {
  TempDir dir;
  dir.write("lua/luvsup/util.lua", "return { edited = 'yes' }\n");
  LuaState state;
  CHECK(eval_in(state, dir.path() + "/lua", "return require('luvsup.util').edited") == "yes");
  CHECK(luvsup::lua::modules_from_bytecode(state.get()) == 0);
}

TEST_CASE("a stack loaded from an edited data directory uses the edited module") {
  TempDir dir;
  fs::copy(library_dir(), dir.path() + "/lua", fs::copy_options::recursive);
  const std::string backoff = dir.path() + "/lua/luvsup/backoff.lua";
  std::string text = *luvsup::os::read_file(backoff);
  const std::string old_message = "option 'factor' must be >= 1";
  REQUIRE(text.find(old_message) != std::string::npos);
  text.replace(text.find(old_message), old_message.size(), "option 'factor' must be 1 or more");
  dir.write("lua/luvsup/backoff.lua", text);
  const std::string stack = "local backoff = require 'luvsup.backoff'\n"
                            "service 'a' { cmd = 'x',\n"
                            "  restart = backoff.exponential { factor = 0.5 } }\n";
  CHECK(luvsup::test::load_error(stack).find(old_message) != std::string::npos);
  ::setenv("LUVSUP_DATA_DIR", dir.path().c_str(), 1);
  const std::string edited = luvsup::test::load_error(stack);
  ::unsetenv("LUVSUP_DATA_DIR");
  CHECK(edited.find("option 'factor' must be 1 or more") != std::string::npos);
}

TEST_CASE("an embedded entry that does not match or does not load falls back to the text") {
  const EmbeddedModule* real =
      luvsup::lua::find_embedded_module(luvsup::lua::embedded_modules(), "luvsup.util");
  REQUIRE(real != nullptr);
  CHECK(load_util({real, 1}).second == 1);
  CHECK(load_util({}).second == 0);

  EmbeddedModule other_hash = *real;
  other_hash.source_hash ^= 1;
  std::string wrong_version(real->bytecode);
  wrong_version[4] = '\x53';  // a Lua 5.3 dump
  EmbeddedModule other_version = *real;
  other_version.bytecode = wrong_version;
  EmbeddedModule truncated = *real;
  truncated.bytecode = real->bytecode.substr(0, real->bytecode.size() / 2);
  EmbeddedModule misplaced_name = *real;
  misplaced_name.chunk_name_offset = real->bytecode.size();
  for (const EmbeddedModule& entry : {other_hash, other_version, truncated, misplaced_name}) {
    const auto [stem, from_bytecode] = load_util({&entry, 1});
    CHECK(stem.starts_with("function: "));
    CHECK(from_bytecode == 0);
  }
}

TEST_CASE("errors and tracebacks name the same file and lines with and without the bytecode") {
  LuaState state;
  const std::string embedded = eval(state, failing_calls());
  CHECK(luvsup::lua::modules_from_bytecode(state.get()) == 2);
  const std::string text = plain_lua_error(failing_calls());
  CHECK(embedded == text);
  CHECK(text.find(library_dir() + "/luvsup/util.lua:") != std::string::npos);
  CHECK(text.find("attempt to get length of a nil value (local 'a')") != std::string::npos);
  CHECK(text.find(library_dir() + "/luvsup/backoff.lua:") != std::string::npos);
}

TEST_CASE("a module that does not compile is reported as Lua reports it") {
  TempDir dir;
  dir.write("lua/luvsup/util.lua", "return {\n");
  const std::string code = "package.path = '" + dir.path() + "/lua/?.lua'\n"
                           "return select(2, pcall(require, 'luvsup.util'))";
  LuaState state;
  const std::string error = eval(state, code);
  CHECK(error == plain_lua_error(code));
  CHECK(error.find("error loading module 'luvsup.util' from file '" + dir.path() +
                   "/lua/luvsup/util.lua':") != std::string::npos);
}

TEST_CASE("require still lists the files it tried for a missing module") {
  LuaState state;
  const std::string error = eval_in(state, "/nonexistent", "return require 'luvsup.nothing'");
  CHECK(error.find("module 'luvsup.nothing' not found:") != std::string::npos);
  CHECK(error.find("no file '/nonexistent/luvsup/nothing.lua'") != std::string::npos);
}

TEST_CASE("a module file that holds bytecode is refused, not run") {
  TempDir dir;
  dir.write("lua/luvsup/x.lua", "");
  LuaState maker;
  eval(maker, "local f = assert(io.open('" + dir.path() + "/lua/luvsup/x.lua', 'wb'))\n"
              "f:write(string.dump(function() return 1 end)) f:close() return ''");
  REQUIRE(luvsup::os::read_file(dir.path() + "/lua/luvsup/x.lua")->starts_with("\x1bLua"));
  LuaState state;
  const std::string error =
      eval_in(state, dir.path() + "/lua", "return select(2, pcall(require, 'luvsup.x'))");
  CHECK(error.find("error loading module 'luvsup.x' from file '" + dir.path() +
                   "/lua/luvsup/x.lua':") != std::string::npos);
  CHECK(error.find("attempt to load a binary chunk (mode is 't')") != std::string::npos);
}

TEST_CASE("a module under a long path gets its whole path as chunk name from the bytecode") {
  TempDir dir;
  std::string deep = dir.path();
  while (deep.size() < 200) {
    deep += "/a-directory-name-of-some-length";
  }
  fs::create_directories(deep + "/luvsup");
  fs::copy_file(library_dir() + "/luvsup/util.lua", deep + "/luvsup/util.lua");
  LuaState state;
  CHECK(eval_in(state, deep, "return debug.getinfo(require('luvsup.util').stem, 'S').source") ==
        "@" + deep + "/luvsup/util.lua");
  CHECK(luvsup::lua::modules_from_bytecode(state.get()) == 1);
}

TEST_CASE("a chunk name's length is encoded as Lua 5.4 dumps sizes") {
  using luvsup::lua::dump_string;
  CHECK(dump_string("").substr(0, 1) == std::string("\x81"));
  CHECK(dump_string(std::string(126, 'x')).substr(0, 1) == std::string("\xff"));
  CHECK(dump_string(std::string(127, 'x')).substr(0, 2) == std::string("\x01\x80"));
  CHECK(dump_string(std::string(16382, 'x')).substr(0, 2) == std::string("\x7f\xff"));
  CHECK(dump_string(std::string(16383, 'x')).substr(0, 3) == std::string("\x01\x00\x80", 3));
  CHECK(dump_string(std::string(127, 'x')).size() == 2 + 127);
}

TEST_CASE("a package.path that is not a string is reported as Lua reports it") {
  const std::string code = "package.path = {}\nreturn select(2, pcall(require, 'luvsup.util'))";
  LuaState state;
  const std::string error = eval(state, code);
  CHECK(error == plain_lua_error(code));
  CHECK(error.find("'package.path' must be a string") != std::string::npos);
}
