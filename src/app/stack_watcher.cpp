#include "app/stack_watcher.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <filesystem>

namespace luvsup::app {

StackWatcher::StackWatcher(uv_loop_t* loop, std::function<bool(bool last_try)> on_quiet,
                           double quiet)
    : m_loop(loop), m_on_quiet(std::move(on_quiet)), m_quiet(quiet), m_timer(loop) {}

void StackWatcher::watch(const std::vector<std::string>& files) {
  m_files = std::set<std::string>(files.begin(), files.end());
  std::set<std::string> dirs;
  for (const auto& file : m_files) {
    dirs.insert(std::filesystem::path(file).parent_path().string());
  }
  std::erase_if(m_dirs, [&](const auto& entry) { return dirs.count(entry.first) == 0; });
  for (const auto& dir : dirs) {
    if (m_dirs.count(dir) != 0) {
      continue;
    }
    auto event = std::make_unique<uv::FsEvent>(
        m_loop, [this, dir](std::string_view name) { on_event(dir, name); });
    if (const int rc = event->start(dir); rc != 0) {
      spdlog::warn("cannot watch {} for changes: {}; reload with SIGHUP instead", dir,
                   uv_strerror(rc));
      continue;
    }
    spdlog::debug("watching {} for changes", dir);
    m_dirs.emplace(dir, std::move(event));
  }
}

void StackWatcher::on_event(const std::string& dir, std::string_view name) {
  try {
    if (!name.empty() && m_files.count(dir + "/" + std::string(name)) == 0) {
      return;  // an editor's swap or backup file, or another file of the directory
    }
    spdlog::trace("change in {}/{}", dir, name);
    m_retry = false;
    m_timer.start(m_quiet, [this] { on_timer(); });
  } catch (const std::exception& e) {
    // No exception may escape a libuv callback; the next change tries again.
    spdlog::error("watching {}: {}", dir, e.what());
  }
}

void StackWatcher::on_timer() {
  const bool last_try = m_retry;
  m_retry = false;
  bool failed = false;
  try {
    failed = m_on_quiet(last_try);
  } catch (const std::exception& e) {
    // No exception may escape a libuv callback; the stack keeps running.
    spdlog::error("reload failed: {}; keeping the running stack", e.what());
    return;
  }
  if (failed && !last_try) {
    uv_update_time(m_loop);  // the quiet period starts after the load, however long it took
    m_retry = true;
    m_timer.start(m_quiet, [this] { on_timer(); });
  }
}

}  // namespace luvsup::app
