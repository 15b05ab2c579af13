// The pids of a stack's running services, persisted in its state directory.
//
// If luvsup is killed (SIGKILL, OOM) its services keep running; the next run
// of the same stack reads this file to find and stop them before starting new
// copies. A pid alone could name an unrelated process after pid reuse, so each
// record carries the start time from /proc/PID/stat as well.
//
// File format (state_dir/pids), one record a line, the name last so that it
// may contain spaces:   <pid> <pgid> <start_time> <service>
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace luvsup::process {

struct PidRecord {
  std::string service;
  pid_t pid = 0;
  pid_t pgid = 0;
  uint64_t start_time = 0;
  bool operator==(const PidRecord&) const = default;
};

class PidRecords {
public:
  // Starts empty: what is on disk belongs to the previous run (see load()).
  explicit PidRecords(std::string state_dir);

  // Adds or replaces the record of `record.service`. Call save() to persist.
  void set(PidRecord record);
  void erase(const std::string& service);
  // Fills in the start time of each record set without one (0) since the
  // last call, from `start_time_of(pid)`, which gives 0 for a process that
  // is gone. Spawns record 0 and the start times are read once per save, off
  // the path from one spawn to the next. Each record is looked up once: a
  // process gone by then keeps 0 (which leftover detection ignores), so a
  // later process that reuses its pid is never taken for it.
  void complete_start_times(uint64_t (*start_time_of)(pid_t));
  [[nodiscard]] const std::vector<PidRecord>& records() const { return m_records; }

  // Writes all records atomically: state_dir is created (mode 0700, parents
  // too), the records go to a temporary file that is fsync'd and renamed over
  // the old one, and the directory is fsync'd. Returns nullopt on success,
  // else what failed ("write /state/pids.tmp: No space left on device").
  [[nodiscard]] std::optional<std::string> save() const;

  // The records on disk; empty when there is no file. Malformed lines are
  // skipped.
  [[nodiscard]] std::vector<PidRecord> load() const;

  [[nodiscard]] std::string file_path() const { return m_dir + "/pids"; }

private:
  std::string m_dir;
  std::vector<PidRecord> m_records;
  std::unordered_map<std::string, size_t> m_index;  // service -> its place in m_records
  std::unordered_set<pid_t> m_lookups;  // pids set with start time 0 since the last fill
};

}  // namespace luvsup::process
