// Lua values to JSON and back, for json.encode/json.decode, state.set/get and
// the bodies runbooks post.
//
// A table whose keys are exactly 1..n (n > 0) becomes an array, any other
// table an object (integer keys become strings; an empty table is {}).
// json.null, a light userdata, stands for JSON null both ways. Strings are
// bytes: invalid UTF-8 is replaced by U+FFFD when encoding.
#pragma once

#include <nlohmann/json.hpp>

extern "C" {
#include <lua.h>
}

#include <string>

namespace luvsup::runbook {

// The value of json.null.
void* json_null();

// Converts the Lua value at `index` to `out`. Returns false with `error` set
// ("cannot encode a function at key 'x'", "a table refers to itself at key
// 'y'", "cannot encode NaN", "nesting deeper than 100") instead. Never raises:
// it uses only Lua API calls that cannot raise, so it may run with C++
// objects alive.
bool to_json(lua_State* L, int index, nlohmann::json& out, std::string& error);

// Pushes `value` as a Lua value. May raise (memory): call it inside protect().
void push_json(lua_State* L, const nlohmann::json& value);

// Parses JSON text; returns false with `error` set ("parse error at line 1,
// column 3: ...") instead of throwing.
bool parse_json(const std::string& text, nlohmann::json& out, std::string& error);

// Pushes the `json` table: encode, decode and null.
void push_json_library(lua_State* L);

} // namespace luvsup::runbook
