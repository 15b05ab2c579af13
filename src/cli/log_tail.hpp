// `luvsup logs`: the last lines of service log files, merged in time order.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace luvsup::cli {

struct TailLine {
  std::string service;
  std::string record; // one log record as in the file, without its newline
};

// The last `n` records of the file at `path` (fewer when it is shorter or
// missing), read backwards from its end.
std::vector<std::string> tail_file(const std::string& path, size_t n);

// The last `n` records of a log that rotates: the file, then its newest
// rotated copy (path.1) when the file holds fewer than n.
std::vector<std::string> tail_log(const std::string& path, size_t n);

// Merges per-service tails by the records' timestamps (stable within a
// service) and keeps the last `n` overall.
std::vector<TailLine>
merge_tails(const std::vector<std::pair<std::string, std::vector<std::string>>>& tails, size_t n);

} // namespace luvsup::cli
