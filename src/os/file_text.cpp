#include "os/file_text.hpp"

#include "os/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace luvsup::os {

std::optional<std::string> read_file(const std::string& path, size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return std::nullopt;
  }
  std::optional<std::string> text(std::in_place);  // returned as it is: no copy
  char chunk[4096];
  while (text->size() < limit) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n > 0) {
      text->append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      const int read_errno = errno;
      fd.reset();  // close() must not replace the error the caller reads
      errno = read_errno;
      return std::nullopt;
    }
  }
  return text;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    out.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return out;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  constexpr std::string_view k_blanks = " \t";
  size_t start = line.find_first_not_of(k_blanks);
  while (start != std::string_view::npos) {
    const size_t end = line.find_first_of(k_blanks, start);
    out.push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
    start = end == std::string_view::npos ? end : line.find_first_not_of(k_blanks, end);
  }
  return out;
}

}  // namespace luvsup::os
