#include "cli/status_table.hpp"

#include <doctest/doctest.h>

using namespace luvsup::cli;
using nlohmann::json;

TEST_CASE("durations read as seconds, minutes, hours and days") {
  CHECK(format_duration(5.9) == "5s");
  CHECK(format_duration(192) == "3m12s");
  CHECK(format_duration(7500) == "2h05m");
  CHECK(format_duration(3 * 86400 + 4 * 3600) == "3d04h");
  CHECK(format_duration(-1) == "0s");
}

TEST_CASE("the table has a row per service with dashes for what is unknown") {
  const json services = json::parse(R"([
    {"name":"web","state":"running","pid":42,"uptime":75,"restarts":2,"last_exit":null,
     "health":{"status":null},"reason":null},
    {"name":"worker","state":"fatal","pid":null,"uptime":null,"restarts":10,
     "last_exit":{"description":"exited with code 3"},"health":{"status":"unhealthy"},
     "reason":"too many restarts"}])");
  const std::string table = render_status_table(services, false);
  CHECK(
      table ==
      "NAME    STATE    PID  UPTIME  RESTARTS  LAST EXIT           HEALTH     REASON\n"
      "web     running  42   1m15s   2         -                   -\n"
      "worker  fatal    -    -       10        exited with code 3  unhealthy  too many restarts\n");
}

TEST_CASE("colors appear only when asked for") {
  const json services = json::parse(R"([{"name":"web","state":"running"}])");
  CHECK(render_status_table(services, false).find('\033') == std::string::npos);
  CHECK(render_status_table(services, true).find("\033[32mrunning") != std::string::npos);
}
