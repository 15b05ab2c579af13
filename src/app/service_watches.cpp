#include "app/service_watches.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <filesystem>
#include <set>

namespace luvsup::app {

struct ServiceWatches::File {
  File(uv_loop_t* loop, Key k, std::string d, uint64_t s) : key(std::move(k)), dir(std::move(d)), serial(s), timer(loop) {}
  Key key;
  std::string dir;
  uint64_t serial;      // tells a late `finished` of a pair watched again from this one
  uv::Timer timer;      // the quiet period
  bool busy = false;    // reported, the handler not finished yet
  bool again = false;   // changed while busy
};

ServiceWatches::ServiceWatches(uv_loop_t* loop, OnChange on_change, double quiet)
    : m_loop(loop), m_on_change(std::move(on_change)), m_quiet(quiet) {}

ServiceWatches::~ServiceWatches() = default;

void ServiceWatches::watch(const std::vector<lua::ServiceWatch>& watches) {
  std::map<Key, std::unique_ptr<File>> next;
  std::set<std::string> dirs;
  for (const auto& w : watches) {
    for (const auto& path : w.paths) {
      Key key{w.service, path};
      if (next.count(key) != 0) {
        continue;
      }
      std::string dir = std::filesystem::path(path).parent_path().string();
      dirs.insert(dir);
      if (auto found = m_files.find(key); found != m_files.end()) {
        next.emplace(key, std::move(found->second));
      } else {
        next.emplace(key, std::make_unique<File>(m_loop, key, std::move(dir), m_next_serial++));
      }
    }
  }
  m_files = std::move(next);
  std::erase_if(m_dirs, [&](const auto& entry) { return dirs.count(entry.first) == 0; });
  for (const auto& dir : dirs) {
    if (m_dirs.count(dir) != 0) {
      continue;
    }
    auto event = std::make_unique<uv::FsEvent>(m_loop, [this, dir](std::string_view name) { on_event(dir, name); });
    if (const int rc = event->start(dir); rc != 0) {
      spdlog::warn("cannot watch {} for changes: {}; its services' on_change hooks will not run", dir,
                   uv_strerror(rc));
      continue;
    }
    spdlog::debug("watching {} for the services' watched files", dir);
    m_dirs.emplace(dir, std::move(event));
  }
}

void ServiceWatches::on_event(const std::string& dir, std::string_view name) {
  try {
    const std::string path = dir + "/" + std::string(name);
    for (auto& [key, file] : m_files) {
      if (file->dir == dir && (name.empty() || key.second == path)) {
        changed(*file);
      }
    }
  } catch (const std::exception& e) {
    // No exception may escape a libuv callback; the next change tries again.
    spdlog::error("watching {}: {}", dir, e.what());
  }
}

void ServiceWatches::changed(File& file) {
  if (file.busy) {
    file.again = true;
    return;
  }
  file.timer.start(m_quiet, [this, &file] {
    try {
      report(file);
    } catch (const std::exception& e) {
      spdlog::error("{}: reporting the change of {}: {}", file.key.first, file.key.second, e.what());
    }
  });
}

void ServiceWatches::report(File& file) {
  file.busy = true;
  file.again = false;
  const Key key = file.key;
  const uint64_t serial = file.serial;
  spdlog::info("{}: {} changed", key.first, key.second);
  m_on_change(key.first, key.second, [this, key, serial] {
    auto found = m_files.find(key);
    if (found == m_files.end() || found->second->serial != serial) {
      return;  // no longer watched
    }
    File& done = *found->second;
    done.busy = false;
    if (done.again) {
      done.again = false;
      changed(done);
    }
  });
}

}  // namespace luvsup::app
