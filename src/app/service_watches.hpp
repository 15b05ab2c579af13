// Watches the files services name in their `watch` key and reports each
// changed file once it has been quiet for a moment (nginx-style reloads: the
// glue runs the service's on_change hook).
//
// Like StackWatcher, it watches the parent directories (a rename-replace
// save leaves a watch on the file itself silent) and keeps only events that
// name a watched file. Each (service, file) pair has its own quiet timer; a
// change while that pair's report is still being handled (its hook runs) is
// reported again once the handler says it finished, so a hook never runs
// twice at once for one file and the last change is never lost.
#pragma once

#include "lua/task_reader.hpp"
#include "uv/fs_event.hpp"
#include "uv/timer.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace luvsup::app {

class ServiceWatches {
public:
  static constexpr double k_quiet = 0.2;

  // `on_change(service, path, finished)`: the file changed; call `finished`
  // once when done with it (at once, or when the hook returns). It is
  // ignored after the pair stopped being watched.
  using OnChange = std::function<void(const std::string& service, const std::string& path,
                                      std::function<void()> finished)>;

  ServiceWatches(uv_loop_t* loop, OnChange on_change, double quiet = k_quiet);
  ~ServiceWatches();
  ServiceWatches(const ServiceWatches&) = delete;
  ServiceWatches& operator=(const ServiceWatches&) = delete;

  // Watches exactly these from now on (the first load and each reload); a
  // pair that stays keeps its state. A directory that cannot be watched is
  // logged and skipped.
  void watch(const std::vector<lua::ServiceWatch>& watches);

  // Pairs watched, for tests.
  [[nodiscard]] size_t size() const { return m_files.size(); }

private:
  struct File;
  using Key = std::pair<std::string, std::string>;  // service, absolute path

  void on_event(const std::string& dir, std::string_view name);
  void changed(File& file);
  void report(File& file);

  uv_loop_t* m_loop;
  OnChange m_on_change;
  double m_quiet;
  std::map<Key, std::unique_ptr<File>> m_files;
  std::map<std::string, std::unique_ptr<uv::FsEvent>> m_dirs;
  uint64_t m_next_serial = 1;
};

}  // namespace luvsup::app
