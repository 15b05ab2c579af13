#include "cli/log_tail.hpp"

#include "os/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace luvsup::cli {

std::vector<std::string> tail_file(const std::string& path, size_t n) {
  std::vector<std::string> lines;
  os::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || n == 0 || ::fstat(fd.get(), &st) != 0) {
    return lines;
  }
  // Read chunks backwards until the tail holds n newlines beyond the last one.
  constexpr off_t k_chunk = 64 * 1024;
  std::string tail;
  off_t pos = st.st_size;
  while (pos > 0 && static_cast<size_t>(std::count(tail.begin(), tail.end(), '\n')) <= n) {
    const off_t size = std::min(k_chunk, pos);
    pos -= size;
    std::string chunk(static_cast<size_t>(size), '\0');
    const ssize_t got = ::pread(fd.get(), chunk.data(), chunk.size(), pos);
    if (got <= 0) {
      break;
    }
    chunk.resize(static_cast<size_t>(got));
    tail.insert(0, chunk);
  }
  size_t start = 0;
  if (pos > 0) {
    start = tail.find('\n') + 1; // the first piece is a partial record
  }
  while (start < tail.size()) {
    size_t end = tail.find('\n', start);
    if (end == std::string::npos) {
      end = tail.size(); // an unterminated last record still shows
    }
    lines.push_back(tail.substr(start, end - start));
    start = end + 1;
  }
  if (lines.size() > n) {
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  }
  return lines;
}

std::vector<std::string> tail_log(const std::string& path, size_t n) {
  std::vector<std::string> lines = tail_file(path, n);
  if (lines.size() < n) {
    std::vector<std::string> older = tail_file(path + ".1", n - lines.size());
    lines.insert(lines.begin(), older.begin(), older.end());
  }
  return lines;
}

std::vector<TailLine>
merge_tails(const std::vector<std::pair<std::string, std::vector<std::string>>>& tails, size_t n) {
  std::vector<TailLine> merged;
  for (const auto& [service, lines] : tails) {
    for (const auto& line : lines) {
      merged.push_back({service, line});
    }
  }
  // The timestamp is the first 23 bytes of a record and sorts as text.
  std::stable_sort(merged.begin(), merged.end(), [](const TailLine& a, const TailLine& b) {
    return a.record.compare(0, 23, b.record, 0, 23) < 0;
  });
  if (merged.size() > n) {
    merged.erase(merged.begin(), merged.end() - static_cast<std::ptrdiff_t>(n));
  }
  return merged;
}

} // namespace luvsup::cli
