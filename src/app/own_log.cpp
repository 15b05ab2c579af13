#include "app/own_log.hpp"

#include "app/fd_sink.hpp"

#include <spdlog/details/os.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace luvsup::app {

namespace {

std::weak_ptr<BackgroundSink> s_sink;  // the installed logger's, for hold_own_log

}  // namespace

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
  const bool colored = color && isatty(STDERR_FILENO) != 0 && spdlog::details::os::is_color_terminal();
  auto sink = std::make_shared<BackgroundSink>(std::make_shared<FdSink>(STDERR_FILENO, colored),
                                               k_queue_items);
  s_sink = sink;
  auto logger = std::make_shared<spdlog::logger>("luvsup", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

BackgroundSink::Hold hold_own_log() {
  auto sink = s_sink.lock();
  return sink ? BackgroundSink::Hold(std::move(sink)) : BackgroundSink::Hold();
}

void stop_own_log() { spdlog::shutdown(); }

}  // namespace luvsup::app
