#include "runbook/lua_json.hpp"

#include "runbook/lua_args.hpp"

extern "C" {
#include <lauxlib.h>
}

#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace luvsup::runbook {

namespace {

constexpr int k_max_depth = 100;
char g_null_marker;

// Walks Lua values with the API calls that cannot raise (lua_next on keys it
// returned, raw reads, lua_tolstring on actual strings).
class Encoder {
public:
  Encoder(lua_State* L, std::string& error) : m_L(L), m_error(error) {}

  bool value(int index, nlohmann::json& out, const std::string& where) {
    switch (lua_type(m_L, index)) {
    case LUA_TNIL:
      out = nullptr;
      return true;
    case LUA_TBOOLEAN:
      out = lua_toboolean(m_L, index) != 0;
      return true;
    case LUA_TNUMBER:
      if (lua_isinteger(m_L, index)) {
        out = static_cast<int64_t>(lua_tointeger(m_L, index));
        return true;
      }
      if (!std::isfinite(lua_tonumber(m_L, index))) {
        return fail(fmt::format("cannot encode {}{}", lua_tonumber(m_L, index), where));
      }
      out = lua_tonumber(m_L, index);
      return true;
    case LUA_TSTRING: {
      size_t length = 0;
      const char* text = lua_tolstring(m_L, index, &length);
      out = std::string(text, length);
      return true;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(m_L, index) == json_null()) {
        out = nullptr;
        return true;
      }
      break;
    case LUA_TTABLE:
      return table(index, out, where);
    default:
      break;
    }
    return fail(
        fmt::format("cannot encode a {}{}", lua_typename(m_L, lua_type(m_L, index)), where));
  }

private:
  bool fail(std::string message) {
    m_error = std::move(message);
    return false;
  }

  bool table(int index, nlohmann::json& out, const std::string& where) {
    index = lua_absindex(m_L, index);
    const void* self = lua_topointer(m_L, index);
    for (const void* open : m_open) {
      if (open == self) {
        return fail("a table refers to itself" + where);
      }
    }
    if (m_open.size() >= k_max_depth) {
      return fail(fmt::format("nesting deeper than {}{}", k_max_depth, where));
    }
    if (!lua_checkstack(m_L, 4)) {
      return fail("out of Lua stack" + where);
    }
    m_open.push_back(self);
    const bool ok = is_sequence(index) ? array(index, out, where) : object(index, out, where);
    m_open.pop_back();
    return ok;
  }

  // Whether the keys are exactly 1..n, n > 0.
  bool is_sequence(int index) {
    lua_Integer count = 0;
    lua_Integer largest = 0;
    lua_pushnil(m_L);
    while (lua_next(m_L, index) != 0) {
      lua_pop(m_L, 1);
      if (!lua_isinteger(m_L, -1) || lua_tointeger(m_L, -1) < 1) {
        lua_pop(m_L, 1);
        return false;
      }
      largest = std::max(largest, lua_tointeger(m_L, -1));
      ++count;
    }
    return count > 0 && largest == count;
  }

  bool array(int index, nlohmann::json& out, const std::string& where) {
    out = nlohmann::json::array();
    const auto n = static_cast<lua_Integer>(lua_rawlen(m_L, index));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(m_L, index, i);
      nlohmann::json item;
      const bool ok = value(-1, item, fmt::format("{} at index {}", where, i));
      lua_pop(m_L, 1);
      if (!ok) {
        return false;
      }
      out.push_back(std::move(item));
    }
    return true;
  }

  bool object(int index, nlohmann::json& out, const std::string& where) {
    out = nlohmann::json::object();
    lua_pushnil(m_L);
    while (lua_next(m_L, index) != 0) {
      std::string key;
      if (lua_type(m_L, -2) == LUA_TSTRING) {
        size_t length = 0;
        const char* text = lua_tolstring(m_L, -2, &length);
        key.assign(text, length);
      } else if (lua_isinteger(m_L, -2)) {
        key = std::to_string(lua_tointeger(m_L, -2));
      } else {
        const std::string message =
            fmt::format("cannot encode a {} key{}", lua_typename(m_L, lua_type(m_L, -2)), where);
        lua_pop(m_L, 2);
        return fail(message);
      }
      nlohmann::json item;
      const bool ok = value(-1, item, fmt::format("{} at key '{}'", where, key));
      lua_pop(m_L, 1); // stack: key
      if (!ok) {
        lua_pop(m_L, 1);
        return false;
      }
      out[key] = std::move(item);
    }
    return true;
  }

  lua_State* m_L;
  std::string& m_error;
  std::vector<const void*> m_open; // the tables being encoded, outermost first
};

// What json.encode and json.decode hand to their protected bodies.
struct Coded {
  nlohmann::json document;
  std::string text;
  std::string error;
};

int encode_body(lua_State* L) {
  auto* coded = static_cast<Coded*>(lua_touserdata(L, 1));
  if (!coded->error.empty()) {
    raise_at(L, k_caller_of_shim, "json.encode: %s", coded->error.c_str());
  }
  lua_pushlstring(L, coded->text.data(), coded->text.size());
  return 1;
}

int l_encode(lua_State* L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  return answer_with<Coded>(L, "json.encode", encode_body, [L](Coded& coded) {
    try {
      if (to_json(L, 1, coded.document, coded.error)) {
        coded.text = coded.document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    } catch (const nlohmann::json::exception& e) {
      coded.error = e.what();
    }
  });
}

int decode_body(lua_State* L) {
  auto* coded = static_cast<Coded*>(lua_touserdata(L, 1));
  if (!coded->error.empty()) {
    lua_pushnil(L);
    lua_pushfstring(L, "json.decode: %s", coded->error.c_str());
    return 2;
  }
  push_json(L, coded->document);
  return 1;
}

int l_decode(lua_State* L) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  return answer_with<Coded>(L, "json.decode", decode_body, [text, length](Coded& coded) {
    parse_json(std::string(text, length), coded.document, coded.error);
  });
}

} // namespace

void* json_null() {
  return &g_null_marker;
}

bool to_json(lua_State* L, int index, nlohmann::json& out, std::string& error) {
  try {
    Encoder encoder(L, error);
    return encoder.value(lua_absindex(L, index), out, "");
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

void push_json(lua_State* L, const nlohmann::json& value) {
  luaL_checkstack(L, 3, "json: nesting too deep");
  switch (value.type()) {
  case nlohmann::json::value_t::null:
    lua_pushlightuserdata(L, json_null());
    return;
  case nlohmann::json::value_t::boolean:
    lua_pushboolean(L, value.get<bool>() ? 1 : 0);
    return;
  case nlohmann::json::value_t::number_integer:
    lua_pushinteger(L, static_cast<lua_Integer>(value.get<int64_t>()));
    return;
  case nlohmann::json::value_t::number_unsigned: {
    const auto number = value.get<uint64_t>();
    if (number <= static_cast<uint64_t>(INT64_MAX)) {
      lua_pushinteger(L, static_cast<lua_Integer>(number));
    } else {
      lua_pushnumber(L, static_cast<lua_Number>(number));
    }
    return;
  }
  case nlohmann::json::value_t::number_float:
    lua_pushnumber(L, value.get<double>());
    return;
  case nlohmann::json::value_t::string: {
    const auto& text = value.get_ref<const std::string&>();
    lua_pushlstring(L, text.data(), text.size());
    return;
  }
  case nlohmann::json::value_t::array: {
    lua_createtable(L, static_cast<int>(value.size()), 0);
    lua_Integer i = 0;
    for (const auto& item : value) {
      push_json(L, item);
      lua_rawseti(L, -2, ++i);
    }
    return;
  }
  case nlohmann::json::value_t::object: {
    lua_createtable(L, 0, static_cast<int>(value.size()));
    for (const auto& [key, item] : value.items()) {
      lua_pushlstring(L, key.data(), key.size());
      push_json(L, item);
      lua_rawset(L, -3);
    }
    return;
  }
  default:
    lua_pushnil(L);
    return; // binary and discarded values never come out of parse()
  }
}

bool parse_json(const std::string& text, nlohmann::json& out, std::string& error) {
  try {
    out = nlohmann::json::parse(text);
    return true;
  } catch (const nlohmann::json::exception& e) {
    // "[json.exception.parse_error.101] parse error at ...": the tag says nothing to a user.
    std::string message = e.what();
    const size_t tag_end = message.find("] ");
    error = tag_end == std::string::npos ? message : message.substr(tag_end + 2);
    return false;
  }
}

void push_json_library(lua_State* L) {
  static const luaL_Reg k_functions[] = {
      {"encode", l_encode}, {"decode", l_decode}, {nullptr, nullptr}};
  luaL_newlib(L, k_functions);
  lua_pushlightuserdata(L, json_null());
  lua_setfield(L, -2, "null");
}

} // namespace luvsup::runbook
