// The sd_notify datagram parser: every message kind, several per datagram,
// garbage and the lines luvsup tolerates without acting on them.
#include "readiness/notify_message.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace luvsup::readiness;

TEST_CASE("READY=1 alone makes a ready message and nothing else") {
  const auto m = parse_notify_message("READY=1");
  CHECK(m.ready);
  CHECK_FALSE(m.stopping);
  CHECK_FALSE(m.watchdog);
  CHECK_FALSE(m.watchdog_trigger);
  CHECK_FALSE(m.status.has_value());
  CHECK(m.ignored == 0);
}

TEST_CASE("each message kind is recognised on its own line") {
  CHECK(parse_notify_message("STOPPING=1\n").stopping);
  CHECK(parse_notify_message("WATCHDOG=1").watchdog);
  CHECK(parse_notify_message("WATCHDOG=trigger").watchdog_trigger);
  CHECK_FALSE(parse_notify_message("WATCHDOG=trigger").watchdog);
  CHECK(parse_notify_message("STATUS=Accepting connections").status == "Accepting connections");
  CHECK(parse_notify_message("STATUS=").status == "");
  CHECK(parse_notify_message("STATUS=a=b").status == "a=b");
}

TEST_CASE("a datagram of several lines sets everything it says, the last STATUS winning") {
  const auto m =
      parse_notify_message("STATUS=starting\nREADY=1\nSTATUS=up\nWATCHDOG=1\nMAINPID=42\n");
  CHECK(m.ready);
  CHECK(m.watchdog);
  CHECK(m.status == "up");
  CHECK(m.ignored == 1); // MAINPID
}

TEST_CASE("values other than the documented ones do not count") {
  const auto m = parse_notify_message("READY=0\nREADY=yes\nSTOPPING=true\nWATCHDOG=2");
  CHECK_FALSE(m.ready);
  CHECK_FALSE(m.stopping);
  CHECK_FALSE(m.watchdog);
  CHECK(m.ignored == 4);
}

TEST_CASE("MAINPID, RELOADING and unknown assignments are tolerated and ignored") {
  const auto m =
      parse_notify_message("MAINPID=1234\nRELOADING=1\nERRNO=2\nX_CUSTOM=hello\nREADY=1");
  CHECK(m.ready);
  CHECK(m.ignored == 4);
}

TEST_CASE("garbage lines are ignored without spoiling the good ones") {
  static const char raw[] = "READY=1\nSTATUS=bad\0text\nno equals sign\n=1\nWATCHDOG=1";
  const std::string with_nul(raw, sizeof raw - 1);
  const auto m = parse_notify_message(with_nul);
  CHECK(m.ready);
  CHECK(m.watchdog);
  CHECK_FALSE(m.status.has_value()); // the line with a NUL is dropped whole
  CHECK(m.ignored == 3);
}

TEST_CASE("empty datagrams, empty lines and CR are harmless") {
  CHECK(parse_notify_message("") == NotifyMessage{});
  CHECK(parse_notify_message("\n\n\n") == NotifyMessage{});
  const auto m = parse_notify_message("\n\nREADY=1\n\n");
  CHECK(m.ready);
  CHECK(m.ignored == 0);
  CHECK_FALSE(parse_notify_message("READY=1\r").ready); // "1\r" is not "1"
}

TEST_CASE("a datagram at the size limit parses; the limit is systemd's") {
  CHECK(k_max_notify_datagram == 4096);
  std::string big = "READY=1\nSTATUS=" + std::string(k_max_notify_datagram - 15, 'x');
  REQUIRE(big.size() == k_max_notify_datagram);
  const auto m = parse_notify_message(big);
  CHECK(m.ready);
  CHECK(m.status->size() == k_max_notify_datagram - 15);
}
