// Indents compact JSON text (a control reply line) for people to read,
// without parsing it into a document: `status --json` of a large stack spent
// most of its time building and destroying one only to print it again.
#pragma once

#include <string>
#include <string_view>

namespace luvsup::cli {

// The same text as nlohmann::json's dump(2) of the parsed document: two
// spaces per level, `"key": value`, empty containers as `{}` and `[]`.
// Strings are copied as they are, escapes included. `compact` must be valid
// JSON (check it before); whitespace outside strings is dropped.
std::string indent_json(std::string_view compact);

} // namespace luvsup::cli
