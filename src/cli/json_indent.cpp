#include "cli/json_indent.hpp"

namespace luvsup::cli {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The next character after `i` that is not whitespace, or '\0' at the end.
char next_token(std::string_view text, size_t i) {
  while (i < text.size() && is_space(text[i])) {
    ++i;
  }
  return i < text.size() ? text[i] : '\0';
}

} // namespace

std::string indent_json(std::string_view compact) {
  std::string out;
  out.reserve(compact.size() + compact.size() / 2);
  size_t depth = 0;
  auto newline = [&] {
    out += '\n';
    out.append(2 * depth, ' ');
  };
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (c == '"') {
      const size_t start = i;
      for (++i; i < compact.size() && compact[i] != '"'; ++i) {
        if (compact[i] == '\\') {
          ++i;
        }
      }
      out.append(compact.substr(start, i - start + 1));
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      if (next_token(compact, i + 1) == close) {
        out += c;
        out += close;
        while (compact[++i] != close) {
        }
      } else {
        out += c;
        ++depth;
        newline();
      }
    } else if (c == '}' || c == ']') {
      --depth;
      newline();
      out += c;
    } else if (c == ',') {
      out += ',';
      newline();
    } else if (c == ':') {
      out += ": ";
    } else if (!is_space(c)) {
      out += c;
    }
  }
  return out;
}

} // namespace luvsup::cli
