#include "app/fd_sink.hpp"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

using luvsup::app::FdSink;

namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    close(read_end);
    close(write_end);
  }
  std::string drain() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(read_end, buf, sizeof buf)) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("the fd sink writes nothing until flush, then every formatted record") {
  Pipe pipe;
  spdlog::logger logger("test", std::make_shared<FdSink>(pipe.write_end, false));
  logger.set_pattern("%^%l%$ %v");
  logger.info("one");
  logger.warn("two");
  CHECK(pipe.drain().empty());
  logger.flush();
  CHECK(pipe.drain() == "info one\nwarning two\n");
  logger.flush();
  CHECK(pipe.drain().empty());  // a flush writes each record once
}

TEST_CASE("with color the fd sink wraps the level in its ANSI color, as spdlog's color sinks") {
  Pipe pipe;
  spdlog::logger logger("test", std::make_shared<FdSink>(pipe.write_end, true));
  logger.set_pattern("%^%l%$ %v");
  logger.info("up");
  logger.error("down");
  logger.flush();
  CHECK(pipe.drain() == "\033[32minfo\033[m up\n\033[31m\033[1merror\033[m down\n");
}

TEST_CASE("a write error loses the batch and nothing else") {
  Pipe pipe;
  const std::string filler(static_cast<size_t>(fcntl(pipe.write_end, F_GETPIPE_SZ)), 'x');
  REQUIRE(write(pipe.write_end, filler.data(), filler.size()) == static_cast<ssize_t>(filler.size()));
  spdlog::logger logger("test", std::make_shared<FdSink>(pipe.write_end, false));
  logger.set_pattern("%v");
  logger.info("lost");
  CHECK_NOTHROW(logger.flush());  // EAGAIN: the pipe is full
  CHECK(pipe.drain() == filler);
  logger.info("kept");
  logger.flush();
  CHECK(pipe.drain() == "kept\n");
}
