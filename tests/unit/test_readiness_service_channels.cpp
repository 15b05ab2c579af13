// ServiceChannels: what a spec asks for is opened, handed to the child and
// removed again; signals from every channel reach the one callback.
#include "readiness/service_channels.hpp"
#include "support/fake_platform.hpp"
#include "test_log_support.hpp"
#include "test_readiness_support.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

using namespace luvsup;
using namespace luvsup::readiness;
using luvsup::log::test::Loop;
using luvsup::log::test::TempDir;

namespace {

std::unique_ptr<ServiceChannels> open_for(Loop& loop, const core::ServiceSpec& spec,
                                          const std::string& state_dir,
                                          luvsup::test::FakePlatform& platform,
                                          std::vector<Signal>& got) {
  auto opened = ServiceChannels::open(loop.get(), spec, state_dir, platform.make_timer(),
                                      [&got](const Signal& s) { got.push_back(s); });
  if (auto* error = std::get_if<std::string>(&opened)) {
    FAIL(*error);
  }
  return std::move(std::get<std::unique_ptr<ServiceChannels>>(opened));
}

} // namespace

TEST_CASE("a spec without readiness keys opens no channel") {
  core::ServiceSpec spec;
  CHECK_FALSE(ServiceChannels::wanted(spec));
  spec.ready.log_pattern = "up";
  CHECK(ServiceChannels::wanted(spec));
  spec = {};
  spec.watchdog = 1;
  CHECK(ServiceChannels::wanted(spec));
  spec = {};
  spec.ready.fd = 3;
  CHECK(ServiceChannels::wanted(spec));
}

TEST_CASE("notify, watchdog and fd channels are handed to the child and cleaned up") {
  TempDir dir;
  Loop loop;
  luvsup::test::FakePlatform platform;
  std::vector<Signal> got;
  core::ServiceSpec spec;
  spec.name = "db";
  spec.ready.notify = true;
  spec.ready.fd = 4;
  spec.watchdog = 1.5;
  const std::string state = dir.path("state");
  const std::string sock = state + "/notify/db.sock";
  {
    auto channels = open_for(loop, spec, state, platform, got);
    const auto env = channels->child_env();
    REQUIRE(env.size() == 2);
    CHECK(env[0] == std::pair<std::string, std::string>{"NOTIFY_SOCKET", sock});
    CHECK(env[1] == std::pair<std::string, std::string>{"WATCHDOG_USEC", "1500000"});
    const auto fd = channels->child_fd();
    CHECK(fd.fd >= 0);
    CHECK(fd.target == 4);
    struct stat st {};
    REQUIRE(::stat((state + "/notify").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);

    REQUIRE(readiness::test::send_notify(sock, "STATUS=warming up\nREADY=1") > 0);
    REQUIRE(loop.run_until([&] { return got.size() == 2; }));
    CHECK(got[0] == Signal{SignalKind::status, "notify", "warming up"});
    CHECK(got[1] == Signal{SignalKind::ready, "notify", ""});
    platform.advance(1.6);
    REQUIRE(got.size() == 3);
    CHECK(got[2] == Signal{SignalKind::watchdog_missed, "notify", "no WATCHDOG=1 for 1.5s"});

    // The fd channel still reports on its own; the state says ready once.
    REQUIRE(::write(fd.fd, "\n", 1) == 1);
    channels->child_started();
    CHECK(channels->child_fd().fd == -1);
    loop.run_until([] { return false; }, 0.05);
    CHECK(got.size() == 3);
  }
  CHECK_FALSE(std::filesystem::exists(sock));
}

TEST_CASE("a state directory too deep for a socket path puts the socket under /tmp") {
  Loop loop;
  luvsup::test::FakePlatform platform;
  std::vector<Signal> got;
  TempDir dir;
  core::ServiceSpec spec;
  spec.name = "db";
  spec.ready.notify = true;
  const std::string deep = dir.path(std::string(100, 'd'));
  auto channels = open_for(loop, spec, deep, platform, got);
  REQUIRE(channels->notify_socket() != nullptr);
  const std::string& path = channels->notify_socket()->path();
  CHECK(path.rfind("/tmp/luvsup-" + std::to_string(::geteuid()) + "/", 0) == 0);
  REQUIRE(readiness::test::send_notify(path, "READY=1") > 0);
  REQUIRE(loop.run_until([&] { return !got.empty(); }));
  CHECK(got[0].kind == SignalKind::ready);
  CHECK_FALSE(channels->child_env().empty());
}

TEST_CASE("a socket directory that cannot be made is an error naming it") {
  Loop loop;
  luvsup::test::FakePlatform platform;
  TempDir dir;
  std::ofstream(dir.path("notify")) << "a file";
  core::ServiceSpec spec;
  spec.name = "db";
  spec.ready.notify = true;
  auto opened = ServiceChannels::open(loop.get(), spec, dir.path(""), platform.make_timer(),
                                      [](const Signal&) {});
  REQUIRE(std::holds_alternative<std::string>(opened));
  CHECK(std::get<std::string>(opened).find("notify socket: ") == 0);
  CHECK(std::get<std::string>(opened).find("notify is not a directory") != std::string::npos);
}
