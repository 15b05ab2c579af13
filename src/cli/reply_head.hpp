// The top level of a control reply without the rest of it.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace luvsup::cli {

// The reply's top-level scalars ("ok", "error", "id", ...) as an object;
// nested objects and arrays are checked for syntax but not kept. Discarded
// (is_discarded()) when `line` is not JSON or not an object. Lets a command
// that prints the reply as it came judge it without building all of it.
nlohmann::json parse_reply_head(std::string_view line);

} // namespace luvsup::cli
