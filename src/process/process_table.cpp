#include "process/process_table.hpp"

#include "process/launch_spec.hpp"
#include "os/file_text.hpp"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <set>

namespace luvsup::process {

namespace {

// Past this much of a process's environment, its tag is not looked for.
constexpr size_t k_environ_limit = 1u << 22;

// A process id: a whole positive decimal number.
std::optional<pid_t> parse_pid(std::string_view text) {
  const auto pid = os::parse_number<pid_t>(text);
  return pid && *pid > 0 ? pid : std::nullopt;
}

// Calls fn(pid) for every numeric entry of `dir`.
template <typename Fn> void for_each_pid(const char* dir, Fn fn) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir), closedir);
  if (!d) {
    return;
  }
  while (dirent* entry = readdir(d.get())) {
    if (auto pid = parse_pid(entry->d_name)) {
      fn(*pid);
    }
  }
}

// Adds to `found` every process that descends from one already in it, except
// `self` (and so luvsup's other children, when luvsup was started from inside
// a service's process tree).
void add_descendants(const std::vector<ProcessInfo>& procs, std::set<pid_t>& found, pid_t self) {
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& p : procs) {
      if (p.pid != self && !found.contains(p.pid) && found.contains(p.ppid)) {
        found.insert(p.pid);
        grew = true;
      }
    }
  }
}

}  // namespace

std::optional<ProcessInfo> read_process(pid_t pid) {
  auto stat = os::read_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) {
    return std::nullopt;
  }
  // The command name (field 2) may hold spaces and parentheses: parse after
  // the last ')'. Fields from there: state ppid pgrp session ... starttime(22).
  auto close = stat->rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::vector<std::string_view> fields;
  std::string_view rest(*stat);
  rest.remove_prefix(close + 1);
  while (!rest.empty() && fields.size() < 20) {
    auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(start);
    auto end = rest.find(' ');
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  }
  if (fields.size() < 20) {
    return std::nullopt;
  }
  ProcessInfo info;
  info.pid = pid;
  info.state = fields[0].empty() ? '?' : fields[0][0];
  auto number = [](std::string_view text, auto& out) {
    std::from_chars(text.data(), text.data() + text.size(), out);
  };
  number(fields[1], info.ppid);
  number(fields[2], info.pgid);
  number(fields[3], info.sid);
  number(fields[19], info.start_time);
  return info;
}

std::vector<ProcessInfo> snapshot() {
  std::vector<ProcessInfo> out;
  for_each_pid("/proc", [&](pid_t pid) {
    if (auto info = read_process(pid)) {
      out.push_back(*info);
    }
  });
  return out;
}

std::optional<std::string> service_tag(pid_t pid) {
  auto environ = os::read_file("/proc/" + std::to_string(pid) + "/environ", k_environ_limit);
  if (!environ) {
    return std::nullopt;
  }
  const std::string prefix = std::string(k_service_tag_var) + "=";
  std::string_view rest(*environ);
  while (!rest.empty()) {
    auto end = rest.find('\0');
    std::string_view entry = rest.substr(0, end);
    if (entry.starts_with(prefix)) {
      return std::string(entry.substr(prefix.size()));
    }
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
  return std::nullopt;
}

std::vector<pid_t> service_processes(std::string_view tag, pid_t pgid, pid_t main_pid) {
  const pid_t self = getpid();
  const pid_t own_group = getpgrp();
  auto procs = snapshot();
  std::set<pid_t> found;
  for (const auto& p : procs) {
    if (p.pid == self || p.pid <= 1) {
      continue;
    }
    bool in_group = pgid > 1 && pgid != own_group && p.pgid == pgid;
    bool is_main = main_pid > 1 && p.pid == main_pid;
    if (in_group || is_main || (!tag.empty() && service_tag(p.pid) == tag)) {
      found.insert(p.pid);
    }
  }
  add_descendants(procs, found, self);
  std::vector<pid_t> out;
  for (const auto& p : procs) {
    if (found.contains(p.pid) && p.pid != self && p.state != 'Z') {
      out.push_back(p.pid);
    }
  }
  return out;
}

std::vector<pid_t> stack_processes(std::string_view stack_hash) {
  const std::string prefix = std::string(stack_hash) + "/";
  const pid_t self = getpid();
  std::vector<pid_t> out;
  // The environment alone, not the stat file too: a zombie's reads as empty
  // (its memory is gone), so it carries no tag.
  for_each_pid("/proc", [&](pid_t pid) {
    if (pid == self || pid <= 1) {
      return;
    }
    auto tag = service_tag(pid);
    if (tag && tag->starts_with(prefix)) {
      out.push_back(pid);
    }
  });
  return out;
}

uint64_t process_start_time(pid_t pid) {
  auto info = read_process(pid);
  return info ? info->start_time : 0;
}

std::vector<pid_t> own_children() {
  // Without CONFIG_PROC_CHILDREN the children files do not exist; remember
  // that so that later calls go straight to the scan.
  static std::atomic<bool> have_children_files{true};
  std::vector<pid_t> out;
  if (have_children_files) {
    bool any_file = false;
    for_each_pid("/proc/self/task", [&](pid_t tid) {
      auto text = os::read_file("/proc/self/task/" + std::to_string(tid) + "/children");
      if (!text) {
        return;
      }
      any_file = true;
      std::string_view rest(*text);
      while (!rest.empty()) {
        auto end = rest.find(' ');
        if (auto pid = parse_pid(rest.substr(0, end))) {
          out.push_back(*pid);
        }
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
      }
    });
    if (any_file) {
      return out;
    }
    have_children_files = false;
  }
  const pid_t self = getpid();
  for (const auto& p : snapshot()) {
    if (p.ppid == self) {
      out.push_back(p.pid);
    }
  }
  return out;
}

void signal_all(const std::vector<pid_t>& pids, int sig) {
  const pid_t self = getpid();
  for (pid_t pid : pids) {
    if (pid > 1 && pid != self) {
      kill(pid, sig);  // ESRCH: already gone, which is what we want
    }
  }
}

bool signal_group(pid_t pgid, int sig) {
  if (pgid <= 1 || pgid == getpgrp()) {
    errno = EINVAL;
    return false;
  }
  return kill(-pgid, sig) == 0;
}

}  // namespace luvsup::process
