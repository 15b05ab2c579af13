// Reads one pipe end on the loop into a buffer shared by every pipe.
//
// libuv calls the read callback right after filling the buffer that the
// allocation callback handed out, so all pipes can share one 256 KiB buffer,
// made on the first read: an idle pipe holds no memory. Pipes are read on
// the loop thread only. The pipe itself is enlarged
// to k_pipe_size (the kernel allocates its pages only while they hold data),
// so a busy service is read in few large chunks. pause()/resume() stop and
// restart reading (uv_read_stop/uv_read_start) for back-pressure: the writer
// then blocks on its own full pipe instead of anything being lost.
#pragma once

#include "uv/handle.hpp"

#include <functional>
#include <string_view>

namespace luvsup::log {

class PipeReader {
public:
  // Called with each chunk read; the view is valid during the call only.
  using DataFn = std::function<void(std::string_view chunk)>;
  // Called once when the pipe ends: 0 at end of file, else a libuv error code.
  using EndFn = std::function<void(int status)>;

  static constexpr size_t k_buffer_size = 256 * 1024;
  static constexpr int k_pipe_size = 1 << 20; // Linux's default pipe-max-size

  PipeReader(DataFn on_data, EndFn on_end);
  PipeReader(const PipeReader&) = delete;
  PipeReader& operator=(const PipeReader&) = delete;

  // Takes ownership of `fd` (closed on failure too), enlarges the pipe when
  // allowed, and starts reading.
  // Returns 0 or a libuv error code.
  int open(uv_loop_t* loop, int fd);
  // Stops reading until resume(); harmless when closed.
  void pause();
  void resume();
  [[nodiscard]] bool paused() const { return m_paused; }
  // Reads what the pipe holds right now (up to `limit` bytes, without
  // waiting) and passes it to on_data, so that closing loses nothing already
  // written. Ignores pause: it runs when capture ends.
  void drain(size_t limit);
  // Closes the pipe; no callback runs afterwards.
  void close();
  [[nodiscard]] bool is_open() const { return m_pipe.initialised(); }

private:
  void start();

  uv::UvHandle<uv_pipe_t> m_pipe;
  DataFn m_on_data;
  EndFn m_on_end;
  bool m_paused = false;
  bool m_ended = false; // end of file or error seen: never read again
};

} // namespace luvsup::log
