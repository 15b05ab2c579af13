// The JSON body notify posts, made to be accepted by the common webhooks:
//   {"text": m, "content": m, "fields": {...}}
// Slack's incoming webhooks (and Mattermost, Rocket.Chat, Discord's /slack
// endpoint) show "text"; Discord's own webhooks show "content" (at most 2000
// characters, so it is cut there); generic receivers get the fields as data.
// Chat services ignore "fields", so m is the text followed by one
// "key: value" line per field, in key order.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace luvsup::runbook {

// Discord refuses a longer "content".
inline constexpr size_t k_discord_content_limit = 2000;

// The body for `text` and `fields` (a JSON object, or null for none).
std::string webhook_payload(const std::string& text, const nlohmann::json& fields);

} // namespace luvsup::runbook
