#include "control/json_writer.hpp"

#include <fmt/format.h>

#include <cmath>

namespace luvsup::control {

namespace {

// The UTF-8 sequence at `i`: how many bytes it spans and whether it is
// complete and valid (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF). A broken one spans its lead byte and the continuation
// bytes that were right so far, so it becomes one U+FFFD, as nlohmann's
// replace handler makes it.
struct Utf8Sequence {
  size_t length;
  bool valid;
};

Utf8Sequence utf8_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    low = lead == 0xe0 ? 0xa0 : 0x80;
    high = lead == 0xed ? 0x9f : 0xbf;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    low = lead == 0xf0 ? 0x90 : 0x80;
    high = lead == 0xf4 ? 0x8f : 0xbf;
  } else {
    return {1, false};
  }
  for (size_t k = 1; k < length; ++k) {
    const bool in_range = i + k < s.size() && byte(i + k) >= (k == 1 ? low : 0x80) &&
                          byte(i + k) <= (k == 1 ? high : 0xbf);
    if (!in_range) {
      return {k, false};
    }
  }
  return {length, true};
}

} // namespace

void JsonWriter::separate() {
  if (m_after_key) {
    m_after_key = false;
    return;
  }
  if (!m_has_member.empty()) {
    if (m_has_member.back()) {
      m_out += ',';
    }
    m_has_member.back() = true;
  }
}

void JsonWriter::open(char bracket) {
  separate();
  m_out += bracket;
  m_has_member.push_back(false);
}

void JsonWriter::close(char bracket) {
  m_out += bracket;
  m_has_member.pop_back();
}

void JsonWriter::key(std::string_view name) {
  value(name);
  m_out += ':';
  m_after_key = true;
}

void JsonWriter::value(std::string_view text) {
  separate();
  m_out += '"';
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const Utf8Sequence sequence = utf8_sequence(text, i);
      if (sequence.valid) {
        m_out.append(text.substr(i, sequence.length));
      } else {
        m_out += "\xef\xbf\xbd";
      }
      i += sequence.length;
      continue;
    }
    switch (c) {
    case '"': m_out += "\\\""; break;
    case '\\': m_out += "\\\\"; break;
    case '\b': m_out += "\\b"; break;
    case '\f': m_out += "\\f"; break;
    case '\n': m_out += "\\n"; break;
    case '\r': m_out += "\\r"; break;
    case '\t': m_out += "\\t"; break;
    default:
      if (c < 0x20) {
        fmt::format_to(std::back_inserter(m_out), "\\u{:04x}", c);
      } else {
        m_out += static_cast<char>(c);
      }
    }
    ++i;
  }
  m_out += '"';
}

void JsonWriter::value(bool flag) {
  separate();
  m_out += flag ? "true" : "false";
}

void JsonWriter::value(double number) {
  separate();
  // JSON has no NaN or infinity; nlohmann writes null for them too.
  if (!std::isfinite(number)) {
    m_out += "null";
    return;
  }
  const size_t start = m_out.size();
  fmt::format_to(std::back_inserter(m_out), "{}", number);
  // A number that was a double reads as one ("12.0"), as nlohmann writes it.
  if (m_out.find_first_of(".e", start) == std::string::npos) {
    m_out += ".0";
  }
}

void JsonWriter::value(std::nullptr_t) {
  separate();
  m_out += "null";
}

void JsonWriter::value(const nlohmann::json& doc) {
  separate();
  m_out += doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace luvsup::control
