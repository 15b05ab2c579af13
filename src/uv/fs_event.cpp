#include "uv/fs_event.hpp"

namespace luvsup::uv {

FsEvent::FsEvent(uv_loop_t* loop, std::function<void(std::string_view name)> fn)
    : m_fn(std::move(fn)) {
  uv_fs_event_init(loop, m_event.get());
  m_event.mark_initialised();
  m_event->data = this;
}

int FsEvent::start(const std::string& dir) {
  return uv_fs_event_start(
      m_event.get(),
      [](uv_fs_event_t* handle, const char* filename, int /*events*/, int status) {
        auto* self = static_cast<FsEvent*>(handle->data);
        if (self != nullptr && status == 0) {
          self->m_fn(filename != nullptr ? std::string_view(filename) : std::string_view());
        }
      },
      dir.c_str(), 0);
}

}  // namespace luvsup::uv
