#include "cli/status_table.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <vector>

namespace luvsup::cli {

namespace {

using nlohmann::json;

std::string text_of(const json& value, const char* fallback = "-") {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_number_integer()) {
    return std::to_string(value.get<long long>());
  }
  return fallback;
}

const char* state_color(const std::string& state) {
  if (state == "running" || state == "completed") {
    return "\033[32m";
  }
  if (state == "fatal" || state == "crash-looping") {
    return "\033[31m";
  }
  if (state == "stopped") {
    return "\033[2m";
  }
  return "\033[33m";
}

// The health column: the probe's verdict, else whether the running process
// has said it is ready (a ready log line, READY=1, its ready fd, or started).
std::string health_text(const json& service) {
  const json& health = service.value("health", json());
  if (!health.is_object()) {
    return "-";
  }
  if (health.value("status", json()).is_string()) {
    return health["status"].get<std::string>();
  }
  if (service.value("state", json()) != "running") {
    return "-";
  }
  return health.value("ready", false) ? "ready" : "not ready";
}

} // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::floor(std::max(0.0, seconds)));
  if (s < 60) {
    return fmt::format("{}s", s);
  }
  if (s < 3600) {
    return fmt::format("{}m{:02}s", s / 60, s % 60);
  }
  if (s < 86400) {
    return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  }
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string render_status_table(const json& services, bool color) {
  constexpr size_t k_columns = 8;
  using Row = std::array<std::string, k_columns>;
  std::vector<Row> rows = {
      {"NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT", "HEALTH", "REASON"}};
  for (const auto& s : services) {
    const auto& exit = s.value("last_exit", json());
    const auto& health = s.value("health", json());
    rows.push_back({
        text_of(s.value("name", json())),
        text_of(s.value("state", json())),
        text_of(s.value("pid", json())),
        s.value("uptime", json()).is_number() ? format_duration(s["uptime"].get<double>()) : "-",
        text_of(s.value("restarts", json()), "0"),
        exit.is_object() ? text_of(exit.value("description", json())) : "-",
        health_text(s),
        text_of(s.value("reason", json()), ""),
    });
  }
  std::array<size_t, k_columns> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < k_columns; ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < k_columns; ++i) {
      const std::string& cell = rows[r][i];
      const bool last = i + 1 == k_columns;
      const std::string padded = last ? cell : fmt::format("{:<{}}", cell, width[i] + 2);
      if (color && r == 0) {
        line += "\033[1m" + padded + "\033[0m";
      } else if (color && i == 1) {
        line += state_color(cell) + padded + "\033[0m";
      } else {
        line += padded;
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + "\n";
  }
  return out;
}

std::string render_reload_footer(const json& stack, double now) {
  const json& last = stack.value("last_reload", json());
  if (!last.is_object() || last.value("ok", true)) {
    return {};
  }
  std::string message = last.value("message", "");
  message = message.substr(0, message.find('\n'));
  const double when = last.value("time", 0.0);
  return fmt::format("last reload failed ({}, {} ago): {}; the stack runs as before\n",
                     last.value("trigger", "?"), format_duration(now - when), message);
}

} // namespace luvsup::cli
