#include "log/pipe_reader.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <memory>

namespace luvsup::log {

namespace {

// One buffer for every pipe, on the heap and made on the first read. Only
// the loop thread reads pipes; a thread_local array would be zeroed in every
// thread luvsup starts (libuv's pool, the log writer) and stay resident there.
char* shared_buffer() {
  static const auto buffer = std::make_unique_for_overwrite<char[]>(PipeReader::k_buffer_size);
  return buffer.get();
}

} // namespace

PipeReader::PipeReader(DataFn on_data, EndFn on_end)
    : m_on_data(std::move(on_data)), m_on_end(std::move(on_end)) {}

int PipeReader::open(uv_loop_t* loop, int fd) {
  close();
  ::fcntl(fd, F_SETPIPE_SZ, k_pipe_size); // best effort: a smaller pipe still works
  m_pipe = uv::UvHandle<uv_pipe_t>();
  if (int rc = uv_pipe_init(loop, m_pipe.get(), 0); rc != 0) {
    ::close(fd);
    return rc;
  }
  m_pipe.mark_initialised();
  if (int rc = uv_pipe_open(m_pipe.get(), fd); rc != 0) {
    ::close(fd);
    m_pipe.reset();
    return rc;
  }
  m_pipe->data = this;
  m_paused = false;
  m_ended = false;
  start();
  return 0;
}

void PipeReader::start() {
  uv_read_start(
      m_pipe.as_stream(),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        buf->base = shared_buffer();
        buf->len = k_buffer_size;
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<PipeReader*>(stream->data);
        if (self == nullptr || nread == 0) {
          return; // closed meanwhile, or EAGAIN
        }
        try {
          if (nread > 0) {
            self->m_on_data(std::string_view(buf->base, static_cast<size_t>(nread)));
          } else {
            uv_read_stop(stream);
            self->m_ended = true;
            auto on_end = self->m_on_end; // the callback may close or destroy this reader
            on_end(nread == UV_EOF ? 0 : static_cast<int>(nread));
          }
        } catch (const std::exception& e) {
          spdlog::error("service output: {}", e.what());
        }
      });
}

void PipeReader::pause() {
  if (is_open() && !m_paused && !m_ended) {
    uv_read_stop(m_pipe.as_stream());
  }
  m_paused = true;
}

void PipeReader::resume() {
  if (is_open() && m_paused && !m_ended) {
    m_paused = false;
    start();
  }
  m_paused = false;
}

void PipeReader::drain(size_t limit) {
  uv_os_fd_t fd = -1;
  if (!is_open() || m_ended || uv_fileno(m_pipe.as_handle(), &fd) != 0) {
    return;
  }
  char* buffer = shared_buffer();
  while (limit > 0) {
    const ssize_t n = ::read(fd, buffer, std::min(limit, k_buffer_size));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break; // empty (EAGAIN), end of file or error: the caller closes anyway
    }
    limit -= static_cast<size_t>(n);
    m_on_data(std::string_view(buffer, static_cast<size_t>(n)));
  }
}

void PipeReader::close() {
  m_pipe.reset();
}

} // namespace luvsup::log
