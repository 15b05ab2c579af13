#include "runbook/webhook_payload.hpp"

namespace luvsup::runbook {

namespace {

// The first `limit` characters (code points) of UTF-8 `text`.
std::string first_characters(const std::string& text, size_t limit) {
  size_t characters = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) != 0x80 && characters++ == limit) {
      return text.substr(0, i);
    }
  }
  return text;
}

} // namespace

std::string webhook_payload(const std::string& text, const nlohmann::json& fields) {
  std::string message = text;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) { // nlohmann::json keeps keys sorted
      message += (message.empty() ? "" : "\n") + key + ": " +
                 (value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  nlohmann::json body;
  body["text"] = message;
  body["content"] = first_characters(message, k_discord_content_limit);
  body["fields"] = fields.is_object() ? fields : nlohmann::json::object();
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace luvsup::runbook
