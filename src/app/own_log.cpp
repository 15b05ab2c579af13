#include "app/own_log.hpp"

#include "app/background_sink.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace luvsup::app {

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) {
  // spdlog spells two levels "warning" and "error"; accept the short forms too.
  if (text == "warn") {
    return spdlog::level::warn;
  }
  if (text == "err") {
    return spdlog::level::err;
  }
  for (auto level : {spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
                     spdlog::level::warn, spdlog::level::err, spdlog::level::off}) {
    if (text == spdlog::level::to_string_view(level)) {
      return level;
    }
  }
  return std::nullopt;
}

void start_own_log(spdlog::level::level_enum level, bool color) {
  // A small queue: this is a supervisor's diary, not a server's access log.
  constexpr size_t k_queue_items = 1024;
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
      color && isatty(STDERR_FILENO) ? spdlog::color_mode::automatic : spdlog::color_mode::never);
  auto logger = std::make_shared<spdlog::logger>(
      "luvsup", std::make_shared<BackgroundSink>(std::move(stderr_sink), k_queue_items));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

void stop_own_log() { spdlog::shutdown(); }

}  // namespace luvsup::app
