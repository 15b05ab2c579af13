// NotifySocket on a real loop with real datagrams: messages, the sender's
// pid, descriptors passed along (closed), oversized datagrams (dropped), the
// socket's path and its private directory.
#include "readiness/notify_path.hpp"
#include "readiness/notify_socket.hpp"
#include "test_log_support.hpp"
#include "test_readiness_support.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

using namespace luvsup;
using namespace luvsup::readiness;
using namespace luvsup::readiness::test;
using luvsup::log::test::Loop;
using luvsup::log::test::TempDir;

namespace {

struct Received {
  std::vector<NotifyMessage> messages;
  std::vector<pid_t> senders;
  NotifySocket::Handler handler() {
    return [this](const NotifyMessage& m, pid_t sender) {
      messages.push_back(m);
      senders.push_back(sender);
    };
  }
};

std::unique_ptr<NotifySocket> open_socket(Loop& loop, const std::string& path, Received& got) {
  auto opened = NotifySocket::open(loop.get(), path, "svc", got.handler());
  if (auto* error = std::get_if<std::string>(&opened)) {
    FAIL(*error);
  }
  return std::move(std::get<std::unique_ptr<NotifySocket>>(opened));
}

} // namespace

TEST_CASE("a notify socket receives READY=1 and STATUS with the sender's pid") {
  TempDir dir;
  Loop loop;
  Received got;
  auto socket = open_socket(loop, dir.path("svc.sock"), got);
  CHECK(socket->path() == dir.path("svc.sock"));
  REQUIRE(send_notify(socket->path(), "READY=1\nSTATUS=Accepting connections") > 0);
  REQUIRE(send_notify(socket->path(), "WATCHDOG=1") > 0);
  REQUIRE(loop.run_until([&] { return got.messages.size() == 2; }));
  CHECK(got.messages[0].ready);
  CHECK(got.messages[0].status == "Accepting connections");
  CHECK(got.messages[1].watchdog);
  CHECK(got.senders[0] == ::getpid()); // SO_PASSCRED
}

TEST_CASE("a datagram sent by a separate short-lived process is accepted") {
  TempDir dir;
  Loop loop;
  Received got;
  auto socket = open_socket(loop, dir.path("svc.sock"), got);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    _exit(send_notify(socket->path(), "STOPPING=1") > 0 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(loop.run_until([&] { return !got.messages.empty(); }));
  CHECK(got.messages[0].stopping);
  CHECK(got.senders[0] == child);
}

TEST_CASE("descriptors sent with a notify message are closed, and the message still counts") {
  TempDir dir;
  Loop loop;
  Received got;
  auto socket = open_socket(loop, dir.path("svc.sock"), got);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  const int before = open_fd_count();
  REQUIRE(send_notify(socket->path(), "FDSTORE=1\nREADY=1", {p[0], p[1], p[0]}) > 0);
  REQUIRE(loop.run_until([&] { return !got.messages.empty(); }));
  CHECK(got.messages[0].ready);
  CHECK(open_fd_count() == before); // the three received copies are gone
  // And our own ends are the only ones left: EOF once we close the write end.
  ::close(p[1]);
  char c;
  CHECK(::read(p[0], &c, 1) == 0);
  ::close(p[0]);
}

TEST_CASE("an oversized datagram is dropped whole, and the next one is read normally") {
  TempDir dir;
  Loop loop;
  Received got;
  auto socket = open_socket(loop, dir.path("svc.sock"), got);
  // A would-be READY=1 whose tail the truncation would cut off: never parse it.
  const std::string big = "STATUS=" + std::string(k_max_notify_datagram, 'x') + "\nREADY=1";
  REQUIRE(send_notify(socket->path(), big) == static_cast<ssize_t>(big.size()));
  REQUIRE(send_notify(socket->path(), "STATUS=small") > 0);
  REQUIRE(loop.run_until([&] { return !got.messages.empty(); }));
  CHECK(socket->dropped() == 1);
  REQUIRE(got.messages.size() == 1);
  CHECK(got.messages[0].status == "small");
  CHECK_FALSE(got.messages[0].ready);
}

TEST_CASE("a burst of datagrams is read completely") {
  TempDir dir;
  Loop loop;
  Received got;
  auto socket = open_socket(loop, dir.path("svc.sock"), got);
  // From a thread: the socket queue holds only a few datagrams (max_dgram_qlen),
  // so the sender blocks until the loop reads, more than one batch in all.
  int sent = 0;
  std::thread sender([&] {
    for (int i = 0; i < 150; ++i) {
      sent += send_notify(socket->path(), "WATCHDOG=1") > 0 ? 1 : 0;
    }
  });
  const bool all = loop.run_until([&] { return got.messages.size() == 150; });
  sender.join();
  CHECK(sent == 150);
  CHECK(all);
}

TEST_CASE("closing a notify socket removes its file, and a stale file is replaced on open") {
  TempDir dir;
  Loop loop;
  Received got;
  const std::string path = dir.path("svc.sock");
  std::ofstream(path) << "left by a killed luvsup";
  {
    auto socket = open_socket(loop, path, got);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(send_notify(path, "READY=1") < 0);
}

TEST_CASE("a notify socket that cannot be bound says where and why") {
  Loop loop;
  Received got;
  auto opened = NotifySocket::open(loop.get(), "/nonexistent-dir/svc.sock", "svc", got.handler());
  REQUIRE(std::holds_alternative<std::string>(opened));
  CHECK(std::get<std::string>(opened).find("/nonexistent-dir/svc.sock") != std::string::npos);
  const std::string too_long = "/tmp/" + std::string(200, 'a');
  opened = NotifySocket::open(loop.get(), too_long, "svc", got.handler());
  REQUIRE(std::holds_alternative<std::string>(opened));
  CHECK(std::get<std::string>(opened).find("longer than 107 bytes") != std::string::npos);
}

TEST_CASE("the socket lives under the state directory, or under /tmp when that path is too long") {
  const auto near = notify_path_for("/srv/app/.luvsup", "db");
  CHECK(near.dir == "/srv/app/.luvsup/notify");
  CHECK(near.path == "/srv/app/.luvsup/notify/db.sock");
  const std::string deep = "/srv/" + std::string(120, 'd');
  const auto far = notify_path_for(deep, "db", "/tmp");
  CHECK(far.dir == "/tmp/luvsup-" + std::to_string(::geteuid()));
  CHECK(far.path.rfind(far.dir + "/", 0) == 0);
  CHECK(far.path.size() <= k_max_socket_path);
  CHECK(far.path.size() == far.dir.size() + 1 + 16 + 5); // 16 hex digits + ".sock"
  CHECK(notify_path_for(deep, "db").path != notify_path_for(deep, "web").path);
  CHECK(notify_path_for(deep, "db").path == far.path); // stable across restarts
  const std::string edge(k_max_socket_path - std::string("/notify/db.sock").size(), 'e');
  CHECK(notify_path_for(edge, "db").path.size() == k_max_socket_path);
  CHECK(notify_path_for(edge, "db").dir == edge + "/notify");
  CHECK(notify_path_for(edge + "e", "db").dir != edge + "e/notify");
}

TEST_CASE("the socket directory is created private, and a foreign or wrong one is refused") {
  TempDir dir;
  const std::string notify = dir.path("state/sub/notify");
  REQUIRE_FALSE(ensure_private_dir(notify).has_value());
  struct stat st {};
  REQUIRE(::stat(notify.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(::chmod(notify.c_str(), 0755) == 0);
  REQUIRE_FALSE(ensure_private_dir(notify).has_value()); // ours: fixed
  REQUIRE(::stat(notify.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  const std::string file = dir.path("a-file");
  std::ofstream(file) << "x";
  auto error = ensure_private_dir(file);
  REQUIRE(error.has_value());
  CHECK(error->find("is not a directory") != std::string::npos);
  const std::string link = dir.path("link");
  REQUIRE(::symlink(notify.c_str(), link.c_str()) == 0);
  error = ensure_private_dir(link);
  REQUIRE(error.has_value()); // never follow a symlink planted in /tmp
  CHECK(error->find("is not a directory") != std::string::npos);
  if (::geteuid() == 0) {
    const std::string foreign = dir.path("foreign");
    REQUIRE(::mkdir(foreign.c_str(), 0700) == 0);
    REQUIRE(::chown(foreign.c_str(), 65534, 65534) == 0);
    error = ensure_private_dir(foreign);
    REQUIRE(error.has_value());
    CHECK(error->find("is owned by uid 65534") != std::string::npos);
  }
}

TEST_CASE(
    "as root, a socket for a service of another user is that user's, in that user's directory") {
  if (::geteuid() != 0) {
    return; // switching users needs root
  }
  TempDir dir;
  Loop loop;
  Received got;
  const uid_t nobody = 65534;
  REQUIRE(::chmod(dir.path("").c_str(), 01777) == 0); // stands in for /tmp
  const auto where = notify_path_for_user("/srv/app/.luvsup", "db", nobody, dir.path(""));
  CHECK(where.dir == dir.path("") + "/luvsup-65534");
  const std::string staging = dir.path("luvsup-0");
  REQUIRE_FALSE(ensure_private_dir(staging).has_value());
  REQUIRE_FALSE(ensure_private_dir(where.dir, nobody, nobody).has_value());
  struct stat st {};
  REQUIRE(::stat(where.dir.c_str(), &st) == 0);
  CHECK(st.st_uid == nobody);
  CHECK((st.st_mode & 07777) == 0700);
  auto opened = NotifySocket::open(loop.get(), where.path, "db", got.handler(),
                                   SocketOwner{nobody, nobody, staging});
  if (auto* error = std::get_if<std::string>(&opened)) {
    FAIL(*error);
  }
  auto socket = std::move(std::get<std::unique_ptr<NotifySocket>>(opened));
  REQUIRE(::lstat(where.path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK(st.st_uid == nobody);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(std::filesystem::is_empty(staging)); // moved, not copied
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::setgid(nobody) != 0 || ::setuid(nobody) != 0) {
      _exit(3);
    }
    _exit(send_notify(where.path, "READY=1") > 0 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(loop.run_until([&] { return !got.messages.empty(); }));
  CHECK(got.messages[0].ready);
  // Another unprivileged user is kept out by the directory.
  const pid_t other = ::fork();
  REQUIRE(other >= 0);
  if (other == 0) {
    if (::setgid(12345) != 0 || ::setuid(12345) != 0) {
      _exit(3);
    }
    _exit(send_notify(where.path, "READY=1") > 0 ? 0 : 1);
  }
  REQUIRE(::waitpid(other, &status, 0) == other);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
}
