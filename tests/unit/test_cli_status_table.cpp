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
     "health":{"status":null,"ready":true},"reason":null},
    {"name":"worker","state":"fatal","pid":null,"uptime":null,"restarts":10,
     "last_exit":{"description":"exited with code 3"},"health":{"status":"unhealthy"},
     "reason":"too many restarts"}])");
  const std::string table = render_status_table(services, false);
  CHECK(
      table ==
      "NAME    STATE    PID  UPTIME  RESTARTS  LAST EXIT           HEALTH     REASON\n"
      "web     running  42   1m15s   2         -                   ready\n"
      "worker  fatal    -    -       10        exited with code 3  unhealthy  too many restarts\n");
}

TEST_CASE("colors appear only when asked for") {
  const json services = json::parse(R"([{"name":"web","state":"running"}])");
  CHECK(render_status_table(services, false).find('\033') == std::string::npos);
  CHECK(render_status_table(services, true).find("\033[32mrunning") != std::string::npos);
}

TEST_CASE("without a health check the health column says whether the process is ready") {
  const json services = json::parse(R"([
    {"name":"db","state":"running","health":{"status":null,"ready":false}},
    {"name":"old","state":"stopped","health":{"status":null,"ready":false}}])");
  const std::string table = render_status_table(services, false);
  CHECK(table.find("db    running  -    -       0         -          not ready") != std::string::npos);
  CHECK(table.find("old   stopped  -    -       0         -          -") != std::string::npos);
}

TEST_CASE("a failed last reload is said under the table, a good one is not") {
  const json failed = json::parse(R"({"last_reload":{"ok":false,"trigger":"file change",
    "message":"stack.lua:3: service 'a': unknown key 'comand'\ntraceback","time":1000}})");
  CHECK(render_reload_footer(failed, 1075) ==
        "last reload failed (file change, 1m15s ago): stack.lua:3: service 'a': unknown key "
        "'comand'; the stack runs as before\n");
  CHECK(render_reload_footer(json::parse(R"({"last_reload":{"ok":true,"time":1}})"), 5).empty());
  CHECK(render_reload_footer(json::parse(R"({"last_reload":null})"), 5).empty());
}
