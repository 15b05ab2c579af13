// A libuv file system watcher on one directory that calls a std::function
// with the name of each entry that changed.
#pragma once

#include "uv/handle.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace luvsup::uv {

class FsEvent {
public:
  // `fn(name)` gets the name of the changed entry inside the directory, or ""
  // when the kernel did not say (treat that as "anything may have changed").
  FsEvent(uv_loop_t* loop, std::function<void(std::string_view name)> fn);

  // Starts watching `dir`. Returns 0 or a negative libuv error code.
  [[nodiscard]] int start(const std::string& dir);

private:
  UvHandle<uv_fs_event_t> m_event;
  std::function<void(std::string_view)> m_fn;
};

}  // namespace luvsup::uv
