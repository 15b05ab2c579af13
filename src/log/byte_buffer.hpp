// A growable byte buffer without zero-filling and with explicit release.
//
// Log records are appended with memcpy into space handed out by extend(); a
// std::string would zero-fill on resize. release() gives the memory back so
// that an idle service holds no buffer at all.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

namespace luvsup::log {

class ByteBuffer {
public:
  ByteBuffer() = default;
  ByteBuffer(ByteBuffer&& other) noexcept
      : m_data(std::move(other.m_data)), m_size(std::exchange(other.m_size, 0)),
        m_capacity(std::exchange(other.m_capacity, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    m_data = std::move(other.m_data);
    m_size = std::exchange(other.m_size, 0);
    m_capacity = std::exchange(other.m_capacity, 0);
    return *this;
  }

  // Returns space for `n` more bytes at the end; the caller must fill all of it.
  char* extend(size_t n) {
    if (m_size + n > m_capacity) {
      grow(m_size + n);
    }
    char* p = m_data.get() + m_size;
    m_size += n;
    return p;
  }
  void append(std::string_view s) {
    if (!s.empty()) {
      std::memcpy(extend(s.size()), s.data(), s.size());
    }
  }

  [[nodiscard]] std::string_view view() const { return {m_data.get(), m_size}; }
  [[nodiscard]] size_t size() const { return m_size; }
  [[nodiscard]] bool empty() const { return m_size == 0; }
  // Forgets the contents but keeps the memory for reuse.
  void clear() { m_size = 0; }
  // Forgets the contents and frees the memory.
  void release() {
    m_data.reset();
    m_size = 0;
    m_capacity = 0;
  }
  void swap(ByteBuffer& other) noexcept {
    std::swap(m_data, other.m_data);
    std::swap(m_size, other.m_size);
    std::swap(m_capacity, other.m_capacity);
  }

private:
  void grow(size_t needed) {
    size_t cap = std::max({needed, m_capacity * 2, size_t{64 * 1024}});
    std::unique_ptr<char[]> data(new char[cap]);
    if (m_size > 0) {
      std::memcpy(data.get(), m_data.get(), m_size);
    }
    m_data = std::move(data);
    m_capacity = cap;
  }

  std::unique_ptr<char[]> m_data;
  size_t m_size = 0;
  size_t m_capacity = 0;
};

} // namespace luvsup::log
