// RAII ownership of libuv handles.
//
// A libuv handle may only be freed after its close callback has run, which
// happens on a later loop iteration. UvHandle<T> owns a heap-allocated handle
// and, on destruction, calls uv_close with a callback that frees the memory, so
// the owner can go away at any time without leaving libuv a dangling pointer.
// Handles that were never initialised are freed at once.
#pragma once

#include <uv.h>

#include <memory>
#include <utility>

namespace luvsup::uv {

template <typename T> class UvHandle {
public:
  UvHandle() : m_handle(new T{}) {}  // freed in close_cb or the destructor
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept : m_handle(std::exchange(other.m_handle, nullptr)),
                                        m_initialised(std::exchange(other.m_initialised, false)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      m_handle = std::exchange(other.m_handle, nullptr);
      m_initialised = std::exchange(other.m_initialised, false);
    }
    return *this;
  }
  ~UvHandle() { reset(); }

  // Marks the handle as initialised (call after a successful uv_*_init), so that
  // destruction closes it through libuv.
  void mark_initialised() { m_initialised = true; }
  [[nodiscard]] bool initialised() const { return m_initialised; }

  T* get() const { return m_handle; }
  T* operator->() const { return m_handle; }
  uv_handle_t* as_handle() const { return reinterpret_cast<uv_handle_t*>(m_handle); }
  uv_stream_t* as_stream() const { return reinterpret_cast<uv_stream_t*>(m_handle); }

  // Closes the handle (if initialised) and releases ownership of its memory to
  // the close callback.
  void reset() {
    if (m_handle == nullptr) {
      return;
    }
    if (m_initialised && !uv_is_closing(as_handle())) {
      m_handle->data = nullptr;
      uv_close(as_handle(), [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
    } else if (!m_initialised) {
      delete m_handle;
    }
    m_handle = nullptr;
    m_initialised = false;
  }

private:
  T* m_handle;
  bool m_initialised = false;
};

}  // namespace luvsup::uv
