// Mistakes in tasks, schedules and watches are reported as
// "file:line: task 'x': ..." or "file:line: service 'x': key ...".
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

using luvsup::test::load_error;

namespace {

const std::string k_run = "run = function() end";

}  // namespace

TEST_CASE("a task with every or cron and a run function loads") {
  CHECK(load_error("task 'backup' { every = '1h', " + k_run + " }\n") == "");
  CHECK(load_error("task 'backup' { cron = '0 3 * * 1-5', " + k_run + ", timeout = '10m' }\n") == "");
  CHECK(load_error("service 'job' { cmd = 'true', oneshot = true, every = 60 }\n") == "");
  CHECK(load_error("service 'job' { cmd = 'true', oneshot = true, cron = '@daily' }\n") == "");
}

TEST_CASE("an unknown task key is reported at its line with a suggestion") {
  CHECK(load_error("task 'backup' {\n  every = '1h',\n  " + k_run + ",\n  timout = 5,\n}\n") ==
        "stack.lua:4: task 'backup': unknown key 'timout'; did you mean 'timeout'?");
  CHECK(load_error("task 'backup' { interval = '1h', " + k_run + " }\n") ==
        "stack.lua:1: task 'backup': unknown key 'interval'; did you mean 'every'?");
  CHECK(load_error("task 'backup' { every = '1h', fn = function() end }\n") ==
        "stack.lua:1: task 'backup': unknown key 'fn'; did you mean 'run'?");
}

TEST_CASE("a task needs exactly one schedule and a run function") {
  CHECK(load_error("task 'backup' { " + k_run + " }\n") ==
        "stack.lua:1: task 'backup': needs a schedule: every = \"1h\" or cron = \"0 3 * * *\"");
  CHECK(load_error("task 'backup' {\n  every = '1h',\n  cron = '@daily',\n  " + k_run + " }\n") ==
        "stack.lua:3: task 'backup': key 'cron' conflicts with 'every': use one of them");
  CHECK(load_error("task 'backup' { every = '1h' }\n") ==
        "stack.lua:1: task 'backup': missing required key 'run' (the function to run)");
  CHECK(load_error("task 'backup' {\n  every = '1h',\n  run = 'backup.sh',\n}\n") ==
        "stack.lua:3: task 'backup': key 'run' expects a function, got string");
}

TEST_CASE("a task's bad schedule or timeout names the key") {
  CHECK(load_error("task 'backup' {\n  " + k_run + ",\n  every = '1 hour',\n}\n") ==
        "stack.lua:3: task 'backup': key 'every' expects a duration (seconds, or a string like \"500ms\", "
        "\"2s\", \"1m\", \"1h\"), got \"1 hour\"");
  CHECK(load_error("task 'backup' { every = 0.5, " + k_run + " }\n") ==
        "stack.lua:1: task 'backup': key 'every' must be at least 1s, got 0.5s");
  CHECK(load_error("task 'backup' {\n  " + k_run + ",\n  cron = '61 * * * *',\n}\n") ==
        "stack.lua:3: task 'backup': key 'cron': minute field: 61 is out of range 0-59");
  CHECK(load_error("task 'backup' { cron = '0 3 * *', " + k_run + " }\n") ==
        "stack.lua:1: task 'backup': key 'cron' expects 5 fields (minute hour day-of-month month day-of-week), "
        "got 4 in \"0 3 * *\"");
  CHECK(load_error("task 'backup' { cron = '0 3 * * mondy', " + k_run + " }\n") ==
        "stack.lua:1: task 'backup': key 'cron': day-of-week field: unknown name 'mondy'; did you mean 'mon'?");
  CHECK(load_error("task 'backup' { every = 5, " + k_run + ", timeout = 0 }\n") ==
        "stack.lua:1: task 'backup': key 'timeout' must be above 0");
  CHECK(load_error("task 'backup' { every = 5, " + k_run + ", timeout = 'soon' }\n").find(
            "stack.lua:1: task 'backup': key 'timeout' expects a duration") == 0);
}

TEST_CASE("task names are checked like service names") {
  CHECK(load_error("task 'a' { every = 5, " + k_run + " }\ntask 'a' { every = 5, " + k_run + " }\n") ==
        "stack.lua:2: duplicate task 'a' (first defined at line 1)");
  CHECK(load_error("task 'bad name' { every = 5, " + k_run + " }\n") ==
        "stack.lua:1: bad task name \"bad name\": use letters, digits, '_' and '-', starting with a letter or '_'");
  CHECK(load_error("task(5)\n") ==
        "stack.lua:1: task expects a name: task \"name\" { every = ..., run = ... }, got number");
  CHECK(load_error("task 'a' 'x'\n") ==
        "stack.lua:1: task 'a': expects a table of keys: task \"a\" { every = ..., run = ... }, got string");
  CHECK(load_error("task 'a'\n") ==
        "stack.lua:1: task 'a': has no body: task \"a\" { every = ..., run = function() ... end }");
}

TEST_CASE("a scheduled service must be a oneshot with one schedule") {
  CHECK(load_error("service 'job' {\n  cmd = 'true',\n  every = '1h',\n}\n") ==
        "stack.lua:3: service 'job': key 'every' needs oneshot = true: a scheduled service runs to completion "
        "each time");
  CHECK(load_error("service 'job' {\n  cmd = 'true',\n  oneshot = true,\n  every = 5,\n  cron = '@daily',\n}\n") ==
        "stack.lua:5: service 'job': key 'cron' conflicts with 'every': use one of them");
  CHECK(load_error("service 'job' {\n  cmd = 'true',\n  oneshot = true,\n  cron = '0 0 * * 8',\n}\n") ==
        "stack.lua:4: service 'job': key 'cron': day-of-week field: 8 is out of range 0-7");
  CHECK(load_error("service 'job' { cmd = 'true', oneshot = true, every = '0s' }\n") ==
        "stack.lua:1: service 'job': key 'every' must be at least 1s, got 0s");
  CHECK(load_error("service 'job' { cmd = 'true', oneshot = true, schedule = '@daily' }\n") ==
        "stack.lua:1: service 'job': unknown key 'schedule'; did you mean 'cron'?");
}

TEST_CASE("a bad watch key is reported") {
  CHECK(load_error("service 'web' { cmd = 'x', watch = {} }\n") ==
        "stack.lua:1: service 'web': key 'watch' expects a file path or a non-empty list of them, got an empty table");
  CHECK(load_error("service 'web' { cmd = 'x', watch = { 'a.conf', 5 } }\n") ==
        "stack.lua:1: service 'web': key 'watch' element 2 expects a file path (string), got number");
  CHECK(load_error("service 'web' { cmd = 'x', watch = 'nginx.conf' }\n") == "");
}

TEST_CASE("a key's line is searched within its own task") {
  CHECK(load_error("task 'a' { every = 5, " + k_run + " }\ntask 'b' {\n  " + k_run +
                   ",\n  every = 'x',\n}\n")
            .find("stack.lua:4: task 'b': key 'every'") == 0);
}
