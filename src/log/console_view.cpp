#include "log/console_view.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace luvsup::log {

namespace {

// A descriptor for `fd` whose O_NONBLOCK is ours alone where possible: setting
// it on a shared terminal would make every other writer of it see EAGAIN.
os::UniqueFd private_nonblocking(int fd, bool& is_socket) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return os::UniqueFd();
  }
  is_socket = S_ISSOCK(st.st_mode);
  if (S_ISREG(st.st_mode) || is_socket) {
    // A regular file never says EAGAIN; a socket gets MSG_DONTWAIT per send.
    return os::UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  }
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  os::UniqueFd reopened(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (reopened.valid()) {
    return reopened;
  }
  os::UniqueFd dup(::fcntl(fd, F_DUPFD_CLOEXEC, 3)); // last resort: shares the flag
  if (dup.valid()) {
    ::fcntl(dup.get(), F_SETFL, ::fcntl(dup.get(), F_GETFL) | O_NONBLOCK);
  }
  return dup;
}

int color_of(std::string_view name) {
  static constexpr int k_palette[] = {36, 33, 32, 35, 34, 96, 93, 92, 95, 94};
  uint32_t h = 2166136261u; // FNV-1a: the same service keeps its colour across runs
  for (unsigned char c : name) {
    h = (h ^ c) * 16777619u;
  }
  return k_palette[h % (sizeof k_palette / sizeof k_palette[0])];
}

} // namespace

ConsoleView::ConsoleView(uv_loop_t* loop, int fd, bool color)
    : m_loop(loop), m_fd(private_nonblocking(fd, m_socket)), m_color(color) {
  m_broken = !m_fd.valid();
}

void ConsoleView::line(std::string_view service, std::string_view payload, bool is_stderr) {
  if (m_broken) {
    return;
  }
  if (!m_backlog.empty()) {
    flush_backlog();
  }
  m_name_width = std::max(m_name_width, service.size());
  const size_t pad = m_name_width - service.size();
  const size_t size = m_name_width + payload.size() + 4 + (m_color ? 20 : 0);
  if (m_backlog.size() + size > k_backlog_limit) {
    ++m_dropped;
    ++m_dropped_total;
    return;
  }
  if (m_dropped > 0) {
    m_backlog += "luvsup: " + std::to_string(m_dropped) + " lines dropped (terminal too slow)\n";
    m_dropped = 0;
  }
  if (m_color) {
    m_backlog += "\x1b[" + std::to_string(color_of(service)) + 'm';
  }
  m_backlog.append(service).append(pad + 1, ' ');
  if (m_color && is_stderr) {
    m_backlog += "\x1b[0;31m|\x1b[0m "; // a red bar tells stderr apart
  } else {
    m_backlog += m_color ? "|\x1b[0m " : "| ";
  }
  m_backlog.append(payload).push_back('\n');
  flush_backlog();
}

void ConsoleView::flush_backlog() {
  size_t done = 0;
  while (done < m_backlog.size()) {
    const char* p = m_backlog.data() + done;
    const size_t n = m_backlog.size() - done;
    const ssize_t rc = m_socket ? ::send(m_fd.get(), p, n, MSG_DONTWAIT | MSG_NOSIGNAL)
                                : ::write(m_fd.get(), p, n);
    if (rc > 0) {
      done += static_cast<size_t>(rc);
    } else if (rc < 0 && errno == EINTR) {
      continue;
    } else if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      m_broken = true; // the terminal went away: stop showing output
      break;
    }
  }
  if (m_broken || done == m_backlog.size()) {
    std::string().swap(m_backlog); // caught up: hold no memory
  } else {
    m_backlog.erase(0, done);
  }
  watch_writable(!m_backlog.empty());
}

void ConsoleView::watch_writable(bool on) {
  if (on == m_polling) {
    return;
  }
  if (on && !m_poll.initialised()) {
    if (uv_poll_init(m_loop, m_poll.get(), m_fd.get()) != 0) {
      return; // cannot be polled: the next line() retries instead
    }
    m_poll.mark_initialised();
    m_poll->data = this;
  }
  if (!m_poll.initialised()) {
    return;
  }
  m_polling = on;
  if (!on) {
    uv_poll_stop(m_poll.get());
    return;
  }
  uv_poll_start(m_poll.get(), UV_WRITABLE, [](uv_poll_t* handle, int status, int) {
    auto* self = static_cast<ConsoleView*>(handle->data);
    if (self == nullptr) {
      return;
    }
    if (status < 0) {
      self->m_broken = true;
    }
    self->flush_backlog();
    if (self->m_backlog.empty() && self->m_dropped > 0 && !self->m_broken) {
      self->m_backlog =
          "luvsup: " + std::to_string(self->m_dropped) + " lines dropped (terminal too slow)\n";
      self->m_dropped = 0;
      self->flush_backlog();
    }
  });
}

} // namespace luvsup::log
