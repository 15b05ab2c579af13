// man/luvsup-stack.5 documents every key the DSL accepts.
//
// Convention: each key is an item of a tag list, on a line of its own that
// starts with ".It Cm <key>" (followed by a space or the end of the line):
// service keys under ".Sh SERVICE KEYS", stack keys under ".Sh STACK SETTINGS",
// stop and log sub-keys under ".Ss Stop settings" and ".Ss Log settings", the
// keys of health probes under ".Ss Health settings", the keys of
// task "name" { ... } under ".Sh TASKS".
#include "core/reload_plan.hpp"
#include "lua/data_dir.hpp"
#include "lua/lua_state.hpp"

#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace {

// The DSL's schema: list name ("service", "stack", "log", "stop", "health", "task") -> keys.
std::map<std::string, std::vector<std::string>> load_schema() {
  luvsup::lua::LuaState state;
  std::map<std::string, std::vector<std::string>> schema;
  std::vector<std::string>* list = nullptr;
  const std::string path = luvsup::lua::package_path(".", luvsup::lua::find_data_dir(), "");
  auto error = state.run([&](lua_State* L) {
    lua_getglobal(L, "package");
    lua_pushstring(L, path.c_str());
    lua_setfield(L, -2, "path");
    lua_getglobal(L, "require");
    lua_pushliteral(L, "luvsup.dsl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "schema");  // stack: package, dsl, schema
    for (const char* name : {"service", "stack", "log", "stop", "health", "task"}) {
      list = &schema[name];
      lua_getfield(L, -1, name);  // stack: ..., schema, keys
      const lua_Integer n = luaL_len(L, -1);
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L, -1, i);
        list->emplace_back(lua_tostring(L, -1));
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  });
  if (error) {
    FAIL("cannot load the DSL schema: " << *error);
  }
  return schema;
}

// The lines of the man page from `heading` up to the next heading of the same
// or a higher level.
std::vector<std::string> section(const std::string& heading) {
  std::ifstream in(luvsup::lua::find_data_dir() + "/man/luvsup-stack.5");
  REQUIRE(in.good());
  const bool sub = heading.rfind(".Ss ", 0) == 0;
  std::vector<std::string> lines;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == heading) {
      inside = true;
      continue;
    }
    if (inside && (line.rfind(".Sh ", 0) == 0 || (sub && line.rfind(".Ss ", 0) == 0))) {
      break;
    }
    if (inside) {
      lines.push_back(line);
    }
  }
  return lines;
}

bool documents(const std::vector<std::string>& lines, const std::string& key) {
  const std::string item = ".It Cm " + key;
  for (const std::string& line : lines) {
    if (line == item || line.rfind(item + " ", 0) == 0) {
      return true;
    }
  }
  return false;
}

void check_documented(const std::vector<std::string>& keys, const std::string& heading) {
  const std::vector<std::string> lines = section(heading);
  REQUIRE_MESSAGE(!lines.empty(), "the man page has no section " << heading);
  CHECK_FALSE(keys.empty());
  for (const std::string& key : keys) {
    CHECK_MESSAGE(documents(lines, key), "luvsup-stack(5) does not document '" << key << "' under " << heading
                                                                                << " as \".It Cm " << key << "\"");
  }
}

}  // namespace

TEST_CASE("the man page documents every service key") {
  check_documented(load_schema().at("service"), ".Sh SERVICE KEYS");
}

TEST_CASE("the man page documents every stack key") {
  check_documented(load_schema().at("stack"), ".Sh STACK SETTINGS");
}

TEST_CASE("the man page documents every stop and log sub-key") {
  const auto schema = load_schema();
  check_documented(schema.at("stop"), ".Ss Stop settings");
  check_documented(schema.at("log"), ".Ss Log settings");
}

TEST_CASE("the man page documents every key of the health probes") {
  check_documented(load_schema().at("health"), ".Ss Health settings");
}

TEST_CASE("the man page documents every key of a task") {
  check_documented(load_schema().at("task"), ".Sh TASKS");
}

TEST_CASE("the man page's reload rules name every key of the reload table") {
  const std::vector<std::string> lines = section(".Sh RELOAD");
  REQUIRE(!lines.empty());
  for (const auto& rule : luvsup::core::key_rules()) {
    const std::string key(rule.key);
    bool named = false;
    for (const std::string& line : lines) {
      if (line.rfind(".Cm ", 0) != 0) {
        continue;
      }
      std::istringstream words(line.substr(4));
      for (std::string word; words >> word;) {
        named = named || word == key;
      }
    }
    CHECK_MESSAGE(named, "RELOAD in luvsup-stack(5) does not say what a change to '" << key << "' does");
  }
}
