// lua/luvsup/schedule.lua: every periods, cron expressions and the next run
// on the local wall clock.
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace {

// Sets TZ for the scope (localtime_r does not re-read TZ by itself: tzset).
class LocalZone {
public:
  explicit LocalZone(const char* tz) {
    if (const char* old = std::getenv("TZ")) {
      m_old = old;
    }
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~LocalZone() {
    if (m_old) {
      ::setenv("TZ", m_old->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  LocalZone(const LocalZone&) = delete;
  LocalZone& operator=(const LocalZone&) = delete;

private:
  std::optional<std::string> m_old;
};

// next_run(expr, "YYYY-MM-DD HH:MM[:SS]") -> the next run as local "YYYY-MM-DD HH:MM Dow",
// or the error. Times are read and printed in local time.
const std::string k_prelude = R"(
local schedule = require "luvsup.schedule"
local function at(text)
  local y, mo, d, h, mi, s = text:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):?(%d*)$")
  return os.time { year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h),
    min = tonumber(mi), sec = tonumber(s) or 0 }
end
local function show(t) return os.date("%Y-%m-%d %H:%M %a", t) end
function next_run(expr, from)
  local s, err = schedule.cron(expr)
  if not s then return "error: " .. err end
  local t, nerr = schedule.next_after(s, at(from))
  return t and show(t) or ("none: " .. nerr)
end
function runs(expr, from, n)
  local s = assert(schedule.cron(expr))
  local t, out = at(from), {}
  for i = 1, n do
    t = schedule.next_after(s, t)
    out[i] = os.date("%m-%d %H:%M", t)
  end
  return table.concat(out, ",")
end
function cron_error(expr)
  local s, err = schedule.cron(expr)
  return s and "accepted" or err
end
function every_error(v)
  local s, err = schedule.every(v)
  return s and ("every " .. s.seconds) or err
end
)";

std::string eval(const std::string& code) {
  luvsup::lua::LuaState state;
  return luvsup::test::eval(state, k_prelude + code);
}

}  // namespace

TEST_CASE("every takes the DSL's durations and runs one period after the given time") {
  CHECK(eval("return every_error('1h30m')") == "every 5400.0");
  CHECK(eval("return every_error(90)") == "every 90.0");
  CHECK(eval("return every_error('30s')") == "every 30.0");
  CHECK(eval("return schedule.next_after(schedule.every('5m'), 1000)") == "1300.0");
  CHECK(eval("return schedule.describe(schedule.every('1h'))") == "every 1h");
}

TEST_CASE("every refuses bad durations and periods under a second") {
  CHECK(eval("return every_error('1 hour')") ==
        "expects a duration (seconds, or a string like \"500ms\", \"2s\", \"1m\", \"1h\"), got \"1 hour\"");
  CHECK(eval("return every_error('500ms')") == "must be at least 1s, got 0.5s");
  CHECK(eval("return every_error(0)") == "must be at least 1s, got 0s");
  CHECK(eval("return every_error(true)").find("expects a duration") == 0);
}

TEST_CASE("cron steps, ranges and lists pick the next matching minute") {
  LocalZone zone("UTC0");
  CHECK(eval("return next_run('*/15 * * * *', '2026-03-10 10:07')") == "2026-03-10 10:15 Tue");
  CHECK(eval("return next_run('*/15 * * * *', '2026-03-10 10:15')") == "2026-03-10 10:30 Tue");
  CHECK(eval("return next_run('*/15 * * * *', '2026-03-10 10:14:59')") == "2026-03-10 10:15 Tue");
  CHECK(eval("return next_run('*/15 * * * *', '2026-03-10 23:50')") == "2026-03-11 00:00 Wed");
  CHECK(eval("return runs('0,30 9-10 * * *', '2026-03-10 08:00', 5)") ==
        "03-10 09:00,03-10 09:30,03-10 10:00,03-10 10:30,03-11 09:00");
  CHECK(eval("return runs('0-20/10 12 * * *', '2026-03-10 00:00', 4)") ==
        "03-10 12:00,03-10 12:10,03-10 12:20,03-11 12:00");
  CHECK(eval("return runs('5/20 * * * *', '2026-03-10 10:00', 4)") ==
        "03-10 10:05,03-10 10:25,03-10 10:45,03-10 11:05");
}

TEST_CASE("cron weekdays: 1-5 skips the weekend and Sunday is both 0 and 7") {
  LocalZone zone("UTC0");
  // 2026-03-13 is a Friday.
  CHECK(eval("return next_run('0 3 * * 1-5', '2026-03-13 04:00')") == "2026-03-16 03:00 Mon");
  CHECK(eval("return next_run('0 3 * * 0', '2026-03-13 04:00')") == "2026-03-15 03:00 Sun");
  CHECK(eval("return next_run('0 3 * * 7', '2026-03-13 04:00')") == "2026-03-15 03:00 Sun");
  CHECK(eval("return next_run('0 3 * * sun', '2026-03-13 04:00')") == "2026-03-15 03:00 Sun");
  CHECK(eval("return next_run('0 3 * * 5-7', '2026-03-14 04:00')") == "2026-03-15 03:00 Sun");
  CHECK(eval("return next_run('0 3 * * Mon,WED', '2026-03-13 04:00')") == "2026-03-16 03:00 Mon");
}

TEST_CASE("cron month ends: the 31st skips short months and February 29 waits for a leap year") {
  LocalZone zone("UTC0");
  CHECK(eval("return runs('0 0 31 * *', '2026-01-01 00:00', 4)") ==
        "01-31 00:00,03-31 00:00,05-31 00:00,07-31 00:00");
  CHECK(eval("return next_run('0 0 29 2 *', '2026-03-01 00:00')") == "2028-02-29 00:00 Tue");
  CHECK(eval("return next_run('0 12 1 * *', '2026-12-31 13:00')") == "2027-01-01 12:00 Fri");
  CHECK(eval("return next_run('0 0 1 jan-mar *', '2026-04-01 00:00')") == "2027-01-01 00:00 Fri");
  CHECK(eval("return next_run('59 23 28-31 feb *', '2026-02-01 00:00')") == "2026-02-28 23:59 Sat");
}

TEST_CASE("cron with both day fields restricted runs when either matches") {
  LocalZone zone("UTC0");
  // The 15th or any Monday: from Friday 2026-03-13, Sunday the 15th comes first.
  CHECK(eval("return runs('0 0 15 * 1', '2026-03-13 00:00', 3)") == "03-15 00:00,03-16 00:00,03-23 00:00");
}

TEST_CASE("cron macros expand to their five fields") {
  LocalZone zone("UTC0");
  CHECK(eval("return next_run('@hourly', '2026-03-10 10:07')") == "2026-03-10 11:00 Tue");
  CHECK(eval("return next_run('@daily', '2026-03-10 10:07')") == "2026-03-11 00:00 Wed");
  CHECK(eval("return next_run('@weekly', '2026-03-10 10:07')") == "2026-03-15 00:00 Sun");
  CHECK(eval("return next_run('@monthly', '2026-03-10 10:07')") == "2026-04-01 00:00 Wed");
  CHECK(eval("return next_run('@yearly', '2026-03-10 10:07')") == "2027-01-01 00:00 Fri");
  CHECK(eval("return schedule.describe(schedule.cron('@daily'))") == "cron '@daily'");
}

TEST_CASE("cron follows local wall time across daylight saving changes") {
  // Central European time: 2026-03-29 02:00 jumps to 03:00, 2026-10-25 03:00 back to 02:00.
  LocalZone zone("CET-1CEST,M3.5.0,M10.5.0/3");
  CHECK(eval("return next_run('0 3 * * *', '2026-03-28 12:00')") == "2026-03-29 03:00 Sun");
  CHECK(eval("return next_run('0 3 * * *', '2026-03-29 03:00')") == "2026-03-30 03:00 Mon");
  CHECK(eval("return next_run('0 3 * * *', '2026-10-24 12:00')") == "2026-10-25 03:00 Sun");
  // The day across the change is 23 or 25 hours long; 03:00 stays 03:00.
  CHECK(eval("local s = schedule.cron('0 3 * * *')\n"
             "local a = schedule.next_after(s, os.time { year = 2026, month = 3, day = 27, hour = 12 })\n"
             "return schedule.next_after(s, a) - a") == "82800");
  CHECK(eval("local s = schedule.cron('0 3 * * *')\n"
             "local a = schedule.next_after(s, os.time { year = 2026, month = 10, day = 23, hour = 12 })\n"
             "return schedule.next_after(s, a) - a") == "90000");
  CHECK(eval("return runs('30 * * * *', '2026-03-29 00:00', 3)") == "03-29 00:30,03-29 01:30,03-29 03:30");
  // 02:30 happens twice on 2026-10-25: it runs once.
  CHECK(eval("return runs('30 2 * * *', '2026-10-25 00:00', 2)") == "10-25 02:30,10-26 02:30");
  CHECK(eval("return runs('*/30 * * * *', '2026-10-25 01:45', 4)") == "10-25 02:00,10-25 02:30,10-25 03:00,10-25 03:30");
}

TEST_CASE("cron errors name the field and what was wrong") {
  CHECK(eval("return cron_error('61 * * * *')") == "minute field: 61 is out of range 0-59");
  CHECK(eval("return cron_error('0 24 * * *')") == "hour field: 24 is out of range 0-23");
  CHECK(eval("return cron_error('0 0 0 * *')") == "day-of-month field: 0 is out of range 1-31");
  CHECK(eval("return cron_error('0 0 * 13 *')") == "month field: 13 is out of range 1-12");
  CHECK(eval("return cron_error('0 0 * * 8')") == "day-of-week field: 8 is out of range 0-7");
  CHECK(eval("return cron_error('0 0 * * mondy')") == "day-of-week field: unknown name 'mondy'; did you mean 'mon'?");
  CHECK(eval("return cron_error('0 0 * janu *')") == "month field: unknown name 'janu'; did you mean 'jan'?");
  CHECK(eval("return cron_error('x * * * *')") == "minute field: 'x' is not a number from 0 to 59");
  CHECK(eval("return cron_error('*/0 * * * *')") ==
        "minute field: step '0' in '*/0' must be a whole number above 0");
  CHECK(eval("return cron_error('0 5-2 * * *')") == "hour field: range 5-2 runs backwards");
  CHECK(eval("return cron_error('0,,5 * * * *')") == "minute field '0,,5' has an empty list element");
  CHECK(eval("return cron_error('* * * *')") ==
        "expects 5 fields (minute hour day-of-month month day-of-week), got 4 in \"* * * *\"");
  CHECK(eval("return cron_error('@dayly')").find("unknown macro '@dayly' (use ") == 0);
  CHECK(eval("return cron_error('@dayly')").find("did you mean '@daily'?") != std::string::npos);
  CHECK(eval("return cron_error(5)") == "expects a cron expression string like \"*/15 * * * *\", got number");
  CHECK(eval("return cron_error('0 0 30 feb *')") ==
        "day-of-month field: no month in \"0 0 30 feb *\" has such a day, so it would never run");
  CHECK(eval("return cron_error('0 0 30 feb mon')") == "accepted");
}
