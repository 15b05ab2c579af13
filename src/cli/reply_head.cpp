#include "cli/reply_head.hpp"

#include <string>

namespace luvsup::cli {

namespace {

using nlohmann::json;

// Keeps the scalars at depth one; counts depth through everything else.
class HeadCollector : public nlohmann::json_sax<json> {
public:
  json head = json::object();
  bool document_is_object = false;

  bool null() override { return keep(nullptr); }
  bool boolean(bool value) override { return keep(value); }
  bool number_integer(number_integer_t value) override { return keep(value); }
  bool number_unsigned(number_unsigned_t value) override { return keep(value); }
  bool number_float(number_float_t value, const string_t&) override { return keep(value); }
  bool string(string_t& value) override { return keep(std::move(value)); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    if (m_depth == 1) {
      m_key = std::move(name);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

private:
  template <typename T> bool keep(T&& value) {
    if (m_depth == 1) {
      head[m_key] = std::forward<T>(value);
    }
    return true;
  }
  bool open(bool object) {
    if (m_depth == 0) {
      document_is_object = object;
    }
    ++m_depth;
    return true;
  }
  bool close() {
    --m_depth;
    return true;
  }

  size_t m_depth = 0;
  std::string m_key;
};

} // namespace

json parse_reply_head(std::string_view line) {
  HeadCollector collector;
  if (!json::sax_parse(line, &collector) || !collector.document_is_object) {
    return json(json::value_t::discarded);
  }
  return std::move(collector.head);
}

} // namespace luvsup::cli
