#include "runbook/port_owner.hpp"

#include "os/file_text.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace luvsup::runbook {

namespace {

constexpr const char* k_listen_state = "0A";

// The inodes of the LISTEN sockets on `port` in one /proc/net/tcp-style table:
// "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode".
void listening_inodes(const std::string& table, int port, std::set<std::string>& inodes) {
  const std::string text = os::read_file(table).value_or("");
  const auto rows = os::lines(text);
  for (size_t row = 1; row < rows.size(); ++row) {  // row 0: the header
    const auto f = os::fields(rows[row]);
    if (f.size() < 10) {
      continue;
    }
    const std::string local(f[1]);
    const std::string_view state = f[3], inode = f[9];
    const size_t colon = local.rfind(':');
    if (state != k_listen_state || colon == std::string::npos) {
      continue;
    }
    if (std::strtol(local.c_str() + colon + 1, nullptr, 16) == port && inode != "0") {
      inodes.insert("socket:[" + std::string(inode) + "]");
    }
  }
}

bool holds_socket(const std::string& fd_dir, const std::set<std::string>& sockets) {
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) {
    return false;
  }
  bool found = false;
  char target[64];
  while (dirent* entry = readdir(dir)) {
    const std::string link = fd_dir + "/" + entry->d_name;
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && sockets.count(std::string(target, static_cast<size_t>(n))) != 0) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

std::string command_line(const std::string& proc, pid_t pid) {
  std::string text = os::read_file(proc + "/" + std::to_string(pid) + "/cmdline").value_or("");
  while (!text.empty() && text.back() == '\0') {
    text.pop_back();
  }
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

} // namespace

std::optional<PortHolder> port_holder(int port, const std::string& proc) {
  std::set<std::string> sockets;
  listening_inodes(proc + "/net/tcp", port, sockets);
  listening_inodes(proc + "/net/tcp6", port, sockets);
  if (sockets.empty()) {
    return std::nullopt;
  }
  PortHolder holder;
  DIR* dir = opendir(proc.c_str());
  if (dir == nullptr) {
    return holder;
  }
  std::optional<pid_t> found;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') {
      continue;
    }
    if (holds_socket(proc + "/" + entry->d_name + "/fd", sockets)) {
      found = static_cast<pid_t>(pid);
      break;
    }
  }
  closedir(dir);
  if (found) {
    holder.pid = found;
    holder.command = command_line(proc, *found);
  }
  return holder;
}

} // namespace luvsup::runbook
