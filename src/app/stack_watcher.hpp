// Watches the files a stack was loaded from and asks for a reload once they
// have been quiet for a moment.
//
// A watch on a file itself goes silent after the first rename-replace save
// (the watched inode is gone), and inotify reports the first write long
// before an editor has finished the file. So the watcher watches the parent
// directories, keeps only events that name a watched file, and calls
// `on_quiet` when `quiet` seconds passed without another one. When that
// reload fails (the file may have been half-written) it calls once more after
// another quiet period, with last_try set; a further event starts over.
#pragma once

#include "uv/fs_event.hpp"
#include "uv/timer.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace luvsup::app {

class StackWatcher {
public:
  // The quiet period after the last change, in seconds.
  static constexpr double k_quiet = 0.2;

  // `on_quiet(last_try)` reloads and returns true when the stack failed to
  // load (so that the watcher retries once).
  StackWatcher(uv_loop_t* loop, std::function<bool(bool last_try)> on_quiet,
               double quiet = k_quiet);

  // Watches exactly `files` (absolute paths) from now on. A directory that
  // cannot be watched is logged and skipped: supervision goes on.
  void watch(const std::vector<std::string>& files);

private:
  void on_event(const std::string& dir, std::string_view name);
  void on_timer();

  uv_loop_t* m_loop;
  std::function<bool(bool)> m_on_quiet;
  double m_quiet;
  std::set<std::string> m_files;
  std::map<std::string, std::unique_ptr<uv::FsEvent>> m_dirs;
  uv::Timer m_timer;
  bool m_retry = false;  // the next call is the retry after a failed load
};

}  // namespace luvsup::app
