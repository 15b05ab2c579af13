#include "process/leftovers.hpp"

#include "process/pid_records.hpp"
#include "process/service_cgroups.hpp"
#include "process/process_table.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

namespace luvsup::process {

namespace {

using Clock = std::chrono::steady_clock;

// A process is named by its pid and start time, so that a pid reused while we
// wait is not mistaken for the leftover.
struct Target {
  pid_t pid;
  uint64_t start_time;
};

class Leftovers {
public:
  explicit Leftovers(std::string_view stack_hash) : m_hash(stack_hash) {}

  // Adds `pid` as a leftover of `service`; false when already known or gone.
  bool add(pid_t pid, const std::string& service) {
    if (known(pid)) {
      return false;
    }
    auto info = read_process(pid);
    if (!info || info->state == 'Z') {
      return false;
    }
    spdlog::warn("leftover from a previous run: {} pid {}; stopping it", service, pid);
    m_targets.push_back({pid, info->start_time});
    return true;
  }

  void add_group(pid_t pgid) {
    if (std::find(m_groups.begin(), m_groups.end(), pgid) == m_groups.end()) {
      m_groups.push_back(pgid);
    }
  }

  // Adds every tagged process of the stack; those that lead their own process
  // group bring the group along (their untagged children live there).
  void add_tagged() {
    const std::string prefix = m_hash + "/";
    for (pid_t pid : stack_processes(m_hash)) {
      auto tag = service_tag(pid);
      std::string service = tag && tag->starts_with(prefix) ? tag->substr(prefix.size()) : "?";
      if (add(pid, service)) {
        if (auto info = read_process(pid); info && info->pgid == pid) {
          add_group(pid);
        }
      }
    }
  }

  // Adds everything still in the stack's service cgroups: they hold even the
  // processes that shed their tag and left their session.
  void add_cgroup_members() {
    if (auto dir = ServiceCgroups::stack_dir(m_hash)) {
      for (const auto& member : cgroup_tree_members(*dir)) {
        add(member.pid, member.service);
      }
    }
  }

  void signal(int sig) {
    for (pid_t pgid : m_groups) {
      signal_group(pgid, sig);
    }
    std::vector<pid_t> alive = still_alive();
    signal_all(alive, sig);
  }

  [[nodiscard]] std::vector<pid_t> still_alive() const {
    std::vector<pid_t> out;
    for (const auto& t : m_targets) {
      auto info = read_process(t.pid);
      if (info && info->start_time == t.start_time && info->state != 'Z') {
        out.push_back(t.pid);
      }
    }
    return out;
  }

  // Polls until every target is gone or `seconds` have passed.
  bool wait_gone(double seconds) const {
    auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      if (still_alive().empty()) {
        return true;
      }
      if (Clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  [[nodiscard]] size_t count() const { return m_targets.size(); }

private:
  bool known(pid_t pid) const {
    return std::any_of(m_targets.begin(), m_targets.end(),
                       [&](const Target& t) { return t.pid == pid; });
  }

  std::string m_hash;
  std::vector<Target> m_targets;
  std::vector<pid_t> m_groups;
};

}  // namespace

size_t stop_leftovers(const std::string& state_dir, std::string_view stack_hash, double timeout) {
  Leftovers leftovers(stack_hash);
  for (const auto& record : PidRecords(state_dir).load()) {
    auto info = read_process(record.pid);
    if (!info || record.start_time == 0 || info->start_time != record.start_time) {
      continue;  // gone, or the pid now names another process
    }
    // The main process is alive, so its group is still the service's.
    if (record.pgid > 1 && info->pgid == record.pgid) {
      leftovers.add_group(record.pgid);
    }
    std::string tag = std::string(stack_hash) + "/" + record.service;
    pid_t pgid = info->pgid == record.pgid ? record.pgid : 0;
    for (pid_t pid : service_processes(tag, pgid, record.pid)) {
      leftovers.add(pid, record.service);
    }
  }
  leftovers.add_tagged();
  leftovers.add_cgroup_members();
  if (leftovers.count() == 0) {
    return 0;
  }
  leftovers.signal(SIGTERM);
  leftovers.signal(SIGCONT);
  if (!leftovers.wait_gone(timeout)) {
    spdlog::warn("leftovers still running after {}s; killing them", timeout);
    leftovers.add_tagged();  // anything they forked meanwhile
    leftovers.add_cgroup_members();
    leftovers.signal(SIGKILL);
    if (!leftovers.wait_gone(5.0)) {
      spdlog::error("leftovers of a previous run survive SIGKILL: pids {}",
                    fmt::join(leftovers.still_alive(), ", "));
    }
  }
  return leftovers.count();
}

}  // namespace luvsup::process
