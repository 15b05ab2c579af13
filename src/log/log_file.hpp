// One service log file as the threadpool sees it: plain blocking syscalls that
// open, rotate and append. Never called on the loop thread; never called by
// two threads at once (the writer keeps one job in flight per file).
#pragma once

#include "os/unique_fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace luvsup::log {

struct LogFileSettings {
  std::string path;                // absolute or relative to luvsup's cwd
  uint64_t max_size = 10ull << 20; // rotate before a record would pass this; 0 = never
  unsigned keep = 5;               // rotated files kept: path.1 (newest) .. path.keep
  double stall_timeout = 30.0;     // seconds; a write stuck longer has input dropped; 0 = never
  bool operator==(const LogFileSettings&) const = default;
};

struct WriteOutcome {
  int error = 0;                 // errno of the failure that stopped the write; 0 = all written
  uint64_t written = 0;          // bytes of the batch now in the file
  uint64_t dropped_original = 0; // service bytes in the records that were not written
  int rotate_error = 0;          // errno of a failed rotation (the file grew past max_size)
};

class LogFile {
public:
  // Appends `batch`, which holds whole records each ending in '\n'. Rotates
  // between records so that no record straddles two files; a record larger
  // than max_size is written alone into a fresh file. Creates missing parent
  // directories and reopens the path when it was moved or removed meanwhile.
  // On failure the torn record is cut off again (when the file allows) and the
  // file is closed, so the next call starts from a clean open.
  WriteOutcome write(const LogFileSettings& settings, std::string_view batch);

private:
  int open(const std::string& path);
  int rotate(const LogFileSettings& settings);
  void fail(WriteOutcome& out, int err, std::string_view unwritten, size_t torn);

  os::UniqueFd m_fd;
  std::string m_path; // what m_fd has open
  uint64_t m_size = 0;
  bool m_regular = false;
  dev_t m_dev = 0;
  ino_t m_ino = 0;
};

} // namespace luvsup::log
