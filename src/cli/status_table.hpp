// The human view of a status reply: one row per service.
//
//   NAME   STATE    PID   UPTIME  RESTARTS  LAST EXIT          HEALTH  REASON
//   web    running  4242  3m12s   1         exited with code 3 -
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace luvsup::cli {

// `services` is the reply's "services" array; `color` adds ANSI colors.
std::string render_status_table(const nlohmann::json& services, bool color);

// A line under the table when the last reload failed (empty otherwise);
// `stack` is the reply's "stack" object, `now` seconds since the epoch.
std::string render_reload_footer(const nlohmann::json& stack, double now);

// "5s", "3m12s", "2h05m", "3d04h".
std::string format_duration(double seconds);

} // namespace luvsup::cli
