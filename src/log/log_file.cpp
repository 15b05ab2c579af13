#include "log/log_file.hpp"

#include "log/record_format.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace luvsup::log {

namespace {

// mkdir -p for the directories above `path`.
void make_parents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    ::mkdir(path.substr(0, slash).c_str(), 0755); // EEXIST and others: open() will tell
  }
}

// Writes all of `data`; returns 0 or errno, with `done` bytes written either way.
int write_all(int fd, std::string_view data, size_t& done) {
  done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (n == 0) {
      return EIO;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

} // namespace

int LogFile::open(const std::string& path) {
  m_fd.reset();
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0 && errno == ENOENT) {
    make_parents(path);
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  }
  if (fd < 0) {
    return errno;
  }
  m_fd.reset(fd);
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    m_regular = S_ISREG(st.st_mode);
    m_size = m_regular ? static_cast<uint64_t>(st.st_size) : 0;
    m_dev = st.st_dev;
    m_ino = st.st_ino;
  }
  m_path = path;
  return 0;
}

int LogFile::rotate(const LogFileSettings& s) {
  m_fd.reset();
  int err = 0;
  if (s.keep == 0) {
    if (::unlink(s.path.c_str()) != 0 && errno != ENOENT) {
      err = errno;
    }
  } else {
    for (unsigned i = s.keep - 1; i >= 1 && err == 0; --i) {
      std::string from = s.path + "." + std::to_string(i);
      std::string to = s.path + "." + std::to_string(i + 1);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
        err = errno;
      }
    }
    if (err == 0 && ::rename(s.path.c_str(), (s.path + ".1").c_str()) != 0 && errno != ENOENT) {
      err = errno;
    }
  }
  return err;
}

void LogFile::fail(WriteOutcome& out, int err, std::string_view unwritten, size_t torn) {
  out.error = err;
  out.dropped_original += original_size_of_records(unwritten);
  if (torn > 0 && m_fd.valid()) {
    // Cut the partly written record so the file still holds whole records only.
    struct stat st {};
    if (::fstat(m_fd.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) >= torn) {
      if (::ftruncate(m_fd.get(), st.st_size - static_cast<off_t>(torn)) != 0) {
        // Nothing better to do: the torn record stays, and the marker follows it.
      }
    }
  }
  m_fd.reset();
}

WriteOutcome LogFile::write(const LogFileSettings& s, std::string_view batch) {
  WriteOutcome out;
  if (m_fd.valid()) {
    // Reopen when the path now names another file (rotated or removed by hand).
    struct stat st {};
    if (m_path != s.path || ::stat(s.path.c_str(), &st) != 0 || st.st_dev != m_dev ||
        st.st_ino != m_ino) {
      m_fd.reset();
    }
  }
  if (!m_fd.valid()) {
    if (int err = open(s.path); err != 0) {
      fail(out, err, batch, 0);
      return out;
    }
  }
  // Only regular files rotate: a FIFO or a device stays where it is.
  bool may_rotate = s.max_size > 0 && m_regular;
  while (!batch.empty()) {
    size_t chunk = batch.size();
    if (may_rotate && m_size + chunk > s.max_size) {
      const size_t room = m_size < s.max_size ? static_cast<size_t>(s.max_size - m_size) : 0;
      const void* nl = room > 0 ? ::memrchr(batch.data(), '\n', room) : nullptr;
      if (nl != nullptr) {
        chunk = static_cast<size_t>(static_cast<const char*>(nl) - batch.data()) + 1;
      } else if (m_size > 0) {
        if (int err = rotate(s); err != 0) {
          out.rotate_error = err;
          may_rotate = false; // keep appending to the same file rather than lose output
        }
        if (int err = open(s.path); err != 0) {
          fail(out, err, batch, 0);
          return out;
        }
        continue;
      } else {
        // A single record larger than max_size: it goes alone into this empty file.
        const void* end = std::memchr(batch.data(), '\n', batch.size());
        chunk = end ? static_cast<size_t>(static_cast<const char*>(end) - batch.data()) + 1
                    : batch.size();
      }
    }
    size_t done = 0;
    if (int err = write_all(m_fd.get(), batch.substr(0, chunk), done); err != 0) {
      // Everything after the last complete record written is dropped.
      const void* last = done > 0 ? ::memrchr(batch.data(), '\n', done) : nullptr;
      const size_t whole =
          last ? static_cast<size_t>(static_cast<const char*>(last) - batch.data()) + 1 : 0;
      out.written += whole;
      fail(out, err, batch.substr(whole), done - whole);
      return out;
    }
    m_size += chunk;
    out.written += chunk;
    batch.remove_prefix(chunk);
  }
  return out;
}

} // namespace luvsup::log
