// port_in_use's lookup in /proc, on sockets this test opens.
#include "runbook/port_owner.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace luvsup;

namespace {

// A TCP socket on a free loopback port (IPv4 or IPv6), listening or only bound.
struct Socket {
  Socket(int family, bool listening) {
    fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_storage storage{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
      addr->sin_family = AF_INET;
      addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *addr;
    } else {
      auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
      addr->sin6_family = AF_INET6;
      addr->sin6_addr = in6addr_loopback;
      len = sizeof *addr;
    }
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&storage), len) == 0);
    if (listening) {
      REQUIRE(::listen(fd, 4) == 0);
    }
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len) == 0);
    port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  }
  ~Socket() { ::close(fd); }
  int fd = -1;
  int port = 0;
};

} // namespace

TEST_CASE("port_holder finds this process listening on an IPv4 port, with its command") {
  Socket listener(AF_INET, true);
  auto holder = runbook::port_holder(listener.port);
  REQUIRE(holder.has_value());
  REQUIRE(holder->pid.has_value());
  CHECK(*holder->pid == getpid());
  CHECK(holder->command.find("unit_tests") != std::string::npos);
}

TEST_CASE("port_holder finds an IPv6 listener") {
  Socket listener(AF_INET6, true);
  auto holder = runbook::port_holder(listener.port);
  REQUIRE(holder.has_value());
  CHECK(holder->pid == getpid());
}

TEST_CASE("port_holder finds nothing on a port that is bound but not listening, or closed") {
  int port = 0;
  {
    Socket bound(AF_INET, false);
    port = bound.port;
    CHECK_FALSE(runbook::port_holder(port).has_value());
  }
  CHECK_FALSE(runbook::port_holder(port).has_value());
}
