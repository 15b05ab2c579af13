// luvsup's own log: human-readable lines on stderr.
//
// It is the one log allowed to drop lines under pressure: a spdlog logger
// whose sink hands records to a writer thread through a small queue that
// drops the oldest record (BackgroundSink), so a stuck terminal or a full
// stderr pipe never blocks the loop, and an idle luvsup never wakes. Losing
// stderr altogether (EIO, EPIPE) is ignored.
#pragma once

#include "app/background_sink.hpp"

#include <optional>
#include <string_view>

#include <spdlog/common.h>

namespace luvsup::app {

// Parses "trace", "debug", "info", "warn", "error", "off".
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text);

// Installs the logger; color only when stderr is a terminal and `color` is set.
void start_own_log(spdlog::level::level_enum level, bool color);

// Batches the lines logged while the result lives (see BackgroundSink::Hold);
// a no-op before start_own_log.
BackgroundSink::Hold hold_own_log();

// Writes every queued line, then stops the writer thread.
void stop_own_log();

}  // namespace luvsup::app
