#include "control/desired_state.hpp"

#include "os/file_text.hpp"
#include "os/unique_fd.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace luvsup::control {

DesiredState::DesiredState(std::string state_dir)
    : m_path(std::move(state_dir) + "/desired.json") {}

void DesiredState::set_stopped(const std::string& service, bool stopped) {
  if (stopped) {
    m_stopped.insert(service);
  } else {
    m_stopped.erase(service);
  }
}

std::optional<std::string> DesiredState::load() {
  m_stopped.clear();
  const auto text = os::read_file(m_path);
  if (!text) {
    return errno == ENOENT ? std::nullopt
                           : std::optional<std::string>(
                                 fmt::format("cannot read {}: {}", m_path, std::strerror(errno)));
  }
  const auto doc = nlohmann::json::parse(*text, nullptr, false);
  const auto stopped = doc.is_object() ? doc.find("stopped") : doc.end();
  if (doc.is_discarded() || !doc.is_object() || stopped == doc.end() || !stopped->is_array()) {
    return fmt::format("{} is not a desired-state file; ignoring it", m_path);
  }
  for (const auto& name : *stopped) {
    if (name.is_string()) {
      m_stopped.insert(name.get<std::string>());
    }
  }
  return std::nullopt;
}

std::optional<std::string> DesiredState::save() const {
  const std::string text = nlohmann::json{{"v", 1}, {"stopped", m_stopped}}.dump() + "\n";
  const std::string temp = m_path + ".tmp";
  os::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) {
    return fmt::format("cannot write {}: {}", temp, std::strerror(errno));
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int err = errno;
      ::unlink(temp.c_str());
      return fmt::format("cannot write {}: {}", temp, std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::rename(temp.c_str(), m_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return fmt::format("cannot replace {}: {}", m_path, std::strerror(err));
  }
  return std::nullopt;
}

} // namespace luvsup::control
