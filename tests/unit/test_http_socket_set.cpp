// The socket set that holds libcurl's sockets, on a real loop with a socket
// pair: what is reported, what is not once removed, and that an empty set
// keeps no watch on the loop.
#include "http/socket_set.hpp"
#include "test_http_support.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

using luvsup::http::SocketSet;
using luvsup::http::test::TestLoop;

namespace {

struct Recorder final : SocketSet::Listener {
  std::vector<std::pair<int, int>> ready; // (fd, events) in the order reported
  int passes = 0;
  std::function<void(int fd)> on_ready;
  void on_socket_ready(int fd, int events) override {
    ready.emplace_back(fd, events);
    if (on_ready) {
      on_ready(fd);
    }
  }
  void after_sockets_ready() override { ++passes; }
};

struct SocketPair {
  int fds[2] = {-1, -1};
  SocketPair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0); }
  ~SocketPair() {
    close(fds[0]);
    close(fds[1]);
  }
};

} // namespace

TEST_CASE("http socket set: a watched socket is reported for what it is ready for") {
  TestLoop loop;
  Recorder recorder;
  SocketPair pair;
  {
    SocketSet set(loop.get(), recorder);
    REQUIRE(set.valid());
    REQUIRE(set.watch(pair.fds[0], UV_READABLE) == 0);
    CHECK(set.watched(pair.fds[0]));
    REQUIRE(write(pair.fds[1], "x", 1) == 1);
    REQUIRE(loop.run_until([&] { return !recorder.ready.empty(); }));
    CHECK(recorder.ready.front() == std::make_pair(pair.fds[0], static_cast<int>(UV_READABLE)));
    CHECK(recorder.passes >= 1);

    recorder.ready.clear();
    REQUIRE(set.watch(pair.fds[0], UV_WRITABLE) == 0); // what curl asks for changes
    REQUIRE(loop.run_until([&] { return !recorder.ready.empty(); }));
    CHECK(recorder.ready.front() == std::make_pair(pair.fds[0], static_cast<int>(UV_WRITABLE)));
  }
}

TEST_CASE("http socket set: a socket removed while its pass runs is not reported after it") {
  TestLoop loop;
  Recorder recorder;
  SocketPair first;
  SocketPair second;
  {
    SocketSet set(loop.get(), recorder);
    REQUIRE(set.watch(first.fds[0], UV_WRITABLE) == 0);
    REQUIRE(set.watch(second.fds[0], UV_WRITABLE) == 0);
    // Both are writable at once: whichever is reported first removes both.
    recorder.on_ready = [&](int) {
      set.remove(first.fds[0]);
      set.remove(second.fds[0]);
    };
    REQUIRE(loop.run_until([&] { return recorder.passes > 0; }));
    CHECK(recorder.ready.size() == 1);
    CHECK_FALSE(set.watched(first.fds[0]));
    CHECK_FALSE(set.watched(second.fds[0]));
  }
}

TEST_CASE("http socket set: a set with nothing watched keeps the loop idle") {
  TestLoop loop;
  Recorder recorder;
  SocketPair pair;
  SocketSet set(loop.get(), recorder);
  REQUIRE(set.watch(pair.fds[0], UV_WRITABLE) == 0);
  CHECK(uv_loop_alive(loop.get()) != 0);
  set.remove(pair.fds[0]);
  set.remove(pair.fds[0]); // a second remove does nothing
  CHECK(uv_loop_alive(loop.get()) == 0);
  CHECK(uv_run(loop.get(), UV_RUN_NOWAIT) == 0);
  CHECK(recorder.ready.empty());
}

TEST_CASE("http socket set: a descriptor that cannot be watched is an error, not a crash") {
  TestLoop loop;
  Recorder recorder;
  SocketSet set(loop.get(), recorder);
  CHECK(set.watch(-1, UV_READABLE) < 0);
  int closed[2];
  REQUIRE(pipe(closed) == 0);
  close(closed[0]);
  close(closed[1]);
  CHECK(set.watch(closed[0], UV_READABLE) < 0); // EBADF from epoll_ctl
  CHECK_FALSE(set.watched(closed[0]));
  CHECK(uv_loop_alive(loop.get()) == 0);
}

TEST_CASE("http socket set: with many sockets busy a pass is followed by a pause, then a pass for all") {
  TestLoop loop;
  Recorder recorder;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  {
    SocketSet set(loop.get(), recorder);
    for (size_t i = 0; i < luvsup::http::k_busy_sockets; ++i) {
      pairs.push_back(std::make_unique<SocketPair>());
      REQUIRE(set.watch(pairs.back()->fds[0], UV_WRITABLE) == 0);
    }
    REQUIRE(loop.run_until([&] { return recorder.passes == 1; }));
    CHECK(recorder.ready.size() == pairs.size()); // every writable socket in one pass
    CHECK(set.pausing());
    REQUIRE(loop.run_until([&] { return recorder.passes == 2; }));
    CHECK(recorder.ready.size() == 2 * pairs.size()); // still writable: reported after the pause
    for (const auto& pair : pairs) {
      set.remove(pair->fds[0]);
    }
    CHECK_FALSE(set.pausing());
    CHECK(uv_loop_alive(loop.get()) == 0); // no poll, no pause timer left running
  }
}

TEST_CASE("http socket set: with few sockets watched a pass is not followed by a pause") {
  TestLoop loop;
  Recorder recorder;
  SocketPair pair;
  {
    SocketSet set(loop.get(), recorder);
    REQUIRE(set.watch(pair.fds[0], UV_WRITABLE) == 0);
    REQUIRE(loop.run_until([&] { return recorder.passes >= 1; }));
    CHECK_FALSE(set.pausing());
    set.remove(pair.fds[0]);
  }
}
