// Writes compact JSON text straight into a string, without a document in
// between: the status of a large stack is thousands of values, and building
// them as nlohmann::json objects first cost more than everything else the
// reply needs (allocations of map nodes, then a second pass to serialize).
#pragma once

#include <nlohmann/json.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace luvsup::control {

class JsonWriter {
public:
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // Inside an object: the name of the member whose value comes next.
  void key(std::string_view name);

  // Strings are escaped as JSON wants; invalid UTF-8 becomes U+FFFD, as
  // nlohmann's error_handler_t::replace does.
  void value(std::string_view text);
  void value(const char* text) { value(std::string_view(text)); }
  void value(const std::string& text) { value(std::string_view(text)); }
  void value(bool flag);
  void value(double number);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void value(T number) {
    separate();
    m_out += std::to_string(number);
  }
  void value(std::nullptr_t);
  // A small document as it is (a request's id, a value of unknown type).
  void value(const nlohmann::json& doc);

  template <typename T> void field(std::string_view name, const T& v) {
    key(name);
    value(v);
  }
  void field(std::string_view name, std::nullptr_t) {
    key(name);
    value(nullptr);
  }

  const std::string& text() const { return m_out; }

private:
  void open(char bracket);
  void close(char bracket);
  // The comma before a value or key that is not the first of its container.
  void separate();

  std::string m_out;
  // Per open container: whether it has a member yet.
  std::vector<bool> m_has_member;
  bool m_after_key = false;
};

} // namespace luvsup::control
