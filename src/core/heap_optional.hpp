// An optional value kept on the heap, so that an absent one costs a pointer
// instead of the value's whole size: a ServiceSpec's health check is 600
// bytes, and most services have none.
#pragma once

#include <memory>

namespace luvsup::core {

template <typename T> class HeapOptional {
public:
  HeapOptional() = default;
  HeapOptional(const HeapOptional& other)
      : m_value(other.m_value ? std::make_unique<T>(*other.m_value) : nullptr) {}
  HeapOptional& operator=(const HeapOptional& other) {
    if (this != &other) {
      m_value = other.m_value ? std::make_unique<T>(*other.m_value) : nullptr;
    }
    return *this;
  }
  HeapOptional(HeapOptional&&) noexcept = default;
  HeapOptional& operator=(HeapOptional&&) noexcept = default;

  T& emplace() {
    m_value = std::make_unique<T>();
    return *m_value;
  }
  explicit operator bool() const { return m_value != nullptr; }
  T& operator*() { return *m_value; }
  const T& operator*() const { return *m_value; }
  T* operator->() { return m_value.get(); }
  const T* operator->() const { return m_value.get(); }

private:
  std::unique_ptr<T> m_value;
};

} // namespace luvsup::core
