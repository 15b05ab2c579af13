// Every mistake in a stack file is reported as "file:line: service 'x': ...".
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

using luvsup::test::load_error;

TEST_CASE("an unknown key is reported at its line with a suggestion") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  comand = 'x',\n}\n") ==
        "stack.lua:3: service 'web': unknown key 'comand'; did you mean 'cmd'?");
  CHECK(load_error("service 'web' { cmd = 'x', workdir = '/' }\n") ==
        "stack.lua:1: service 'web': unknown key 'workdir'; did you mean 'cwd'?");
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  requires = { 'db' },\n}\n") ==
        "stack.lua:3: service 'web': unknown key 'requires'; did you mean 'depends_on'?");
  CHECK(load_error("service 'web' { cmd = 'x', zzzzzzzz = 1 }\n") ==
        "stack.lua:1: service 'web': unknown key 'zzzzzzzz'");
}

TEST_CASE("an unknown sub-key of log or stop is reported with a suggestion") {
  CHECK(load_error("service 'a' {\n  cmd = 'x',\n  log = {\n    max_sise = 1 },\n}\n") ==
        "stack.lua:4: service 'a': unknown key 'log.max_sise'; did you mean 'max_size'?");
  CHECK(load_error("service 'a' { cmd = 'x', stop = { timout = 1 } }\n") ==
        "stack.lua:1: service 'a': unknown key 'stop.timout'; did you mean 'timeout'?");
}

TEST_CASE("a value of the wrong type names the key and the expected type") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  cwd = 5,\n}\n") ==
        "stack.lua:3: service 'web': key 'cwd' expects a string (directory path), got number");
  CHECK(load_error("service 'a' { cmd = 'x', autostart = 'yes' }\n") ==
        "stack.lua:1: service 'a': key 'autostart' expects true or false, got string");
  CHECK(load_error("service 'a' { cmd = {} }\n") ==
        "stack.lua:1: service 'a': key 'cmd' expects a non-empty list of strings (argv) or a string run by /bin/sh -c");
  CHECK(load_error("service 'a' { cmd = { 'x', true } }\n") ==
        "stack.lua:1: service 'a': key 'cmd' element 2 expects a string, got boolean");
  CHECK(load_error("service 'a' { cmd = 'x', env = { A = {} } }\n") ==
        "stack.lua:1: service 'a': key 'env' variable 'A' expects a string or number, got table");
  CHECK(load_error("service 'a' { cmd = 'x', success_codes = { 0, 300 } }\n") ==
        "stack.lua:1: service 'a': key 'success_codes' expects exit codes from 0 to 255, got 300");
  CHECK(load_error("service 'a' { cmd = 'x', umask = '999' }\n") ==
        "stack.lua:1: service 'a': key 'umask' expects an octal mode from 000 to 777, got 999");
  CHECK(load_error("service 'a' { cmd = 'x', restart = 5 }\n").find(
            "stack.lua:1: service 'a': key 'restart' expects \"always\", \"on-failure\", \"never\"") == 0);
}

TEST_CASE("a missing cmd is reported") {
  CHECK(load_error("service 'a' { cwd = '/' }\n") == "stack.lua:1: service 'a': missing required key 'cmd'");
}

TEST_CASE("a bad duration is reported with the accepted forms") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  stop = { timeout = '5 minutes' },\n}\n") ==
        "stack.lua:3: service 'web': key 'stop.timeout' expects a duration (seconds, or a string like "
        "\"500ms\", \"2s\", \"1m\", \"1h\"), got \"5 minutes\"");
  CHECK(load_error("service 'a' { cmd = 'x', stop = { timeout = -1 } }\n") ==
        "stack.lua:1: service 'a': key 'stop.timeout' expects a duration >= 0 (seconds), got -1");
}

TEST_CASE("a bad size is reported with the accepted forms") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  log = { file = 'a',\n          max_size = '10XB' },\n}\n") ==
        "stack.lua:4: service 'web': key 'log.max_size' expects a size (bytes, or a string like \"512KB\", "
        "\"10MB\", \"1GiB\"), got \"10XB\"");
}

TEST_CASE("a bad signal is reported with a suggestion") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  stop = { signal = 'TREM' },\n}\n") ==
        "stack.lua:3: service 'web': key 'stop.signal' unknown signal \"TREM\"; did you mean 'TERM'?");
  CHECK(load_error("service 'a' { cmd = 'x', stop = { signal = 99 } }\n") ==
        "stack.lua:1: service 'a': key 'stop.signal' expects a signal number from 1 to 64, got 99");
}

TEST_CASE("an unknown limit is reported with a suggestion") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  limits = { nofle = 10 },\n}\n") ==
        "stack.lua:3: service 'web': unknown limit 'nofle' in 'limits'; did you mean 'nofile'?");
  CHECK(load_error("service 'a' { cmd = 'x', limits = { nofile = 'lots' } }\n") ==
        "stack.lua:1: service 'a': key 'limits.nofile' expects a whole number >= 0, \"unlimited\" or "
        "{soft, hard}, got \"lots\"");
  CHECK(load_error("service 'a' { cmd = 'x', limits = { nofile = { 20, 10 } } }\n") ==
        "stack.lua:1: service 'a': key 'limits.nofile' has a soft limit above its hard limit");
}

TEST_CASE("a dependency on an unknown service is reported with a suggestion") {
  CHECK(load_error("service 'db1' { cmd = 'x' }\nservice 'api' {\n  cmd = 'x',\n  depends_on = { 'db' },\n}\n") ==
        "stack.lua:4: service 'api': depends_on names unknown service 'db'; did you mean 'db1'?");
  CHECK(load_error("service 'api' { cmd = 'x', depends_on = { cache = 'started' } }\n") ==
        "stack.lua:1: service 'api': depends_on names unknown service 'cache'");
}

TEST_CASE("a dependency on an unknown service names where it was set, whichever service was checked last") {
  CHECK(load_error("stack { defaults = { depends_on = { 'q' } } }\nservice 'a' { cmd = 'x' }\n"
                   "service 'b' { cmd = 'x', depends_on = {} }\n") ==
        "stack.lua:1: stack defaults (for service 'a'): depends_on names unknown service 'q'; did you mean 'a'?");
  CHECK(load_error("stack { defaults = { depends_on = { 'b' } } }\nservice 'a' {\n  cmd = 'x',\n"
                   "  depends_on = { 'zz' },\n}\nservice 'b' { cmd = 'x', depends_on = {} }\n") ==
        "stack.lua:4: service 'a': depends_on names unknown service 'zz'; did you mean 'a'?");
}

TEST_CASE("a dependency condition must be started, healthy or completed") {
  CHECK(load_error("service 'a' { cmd = 'x', depends_on = { b = 'ready' } }\nservice 'b' { cmd = 'x' }\n") ==
        "stack.lua:1: service 'a': key 'depends_on' condition \"ready\" for 'b' must be \"started\", "
        "\"healthy\" or \"completed\"");
}

TEST_CASE("a service that depends on itself is reported") {
  CHECK(load_error("service 'api' {\n  cmd = 'x',\n  depends_on = { 'api' },\n}\n") ==
        "stack.lua:3: service 'api': depends_on names the service itself");
}

TEST_CASE("a duplicate service is reported at its second definition") {
  CHECK(load_error("service 'a' { cmd = 'x' }\n\nservice 'a' { cmd = 'y' }\n") ==
        "stack.lua:3: duplicate service 'a' (first defined at line 1)");
}

TEST_CASE("a service name must be identifier-like") {
  CHECK(load_error("service 'my web' { cmd = 'x' }\n") ==
        "stack.lua:1: bad service name \"my web\": use letters, digits, '_' and '-', starting with a letter or '_'");
  CHECK(load_error("service '9lives' { cmd = 'x' }\n").find("bad service name") != std::string::npos);
  CHECK(load_error("service { cmd = 'x' }\n") ==
        "stack.lua:1: service expects a name: service \"name\" { ... }, got table");
  CHECK(load_error("service 'web-2_b' { cmd = 'x' }\n") == "");
}

TEST_CASE("stack may be called only once") {
  CHECK(load_error("stack { name = 'a' }\nstack { name = 'b' }\n") ==
        "stack.lua:2: stack: stack{} may be called once (first called at line 1)");
}

TEST_CASE("stack keys are validated like service keys") {
  CHECK(load_error("stack { logz = 'x' }\n") == "stack.lua:1: stack: unknown key 'logz'; did you mean 'logs'?");
  CHECK(load_error("stack {\n  name = 5 }\n") == "stack.lua:2: stack: key 'name' expects a non-empty string, got number");
  CHECK(load_error("stack { defaults = { comand = 'x' } }\n") ==
        "stack.lua:1: stack: defaults: unknown key 'comand'; did you mean 'cmd'?");
  CHECK(load_error("stack {\n  defaults = {\n    cwd = 1 } }\nservice 'a' { cmd = 'x' }\n") ==
        "stack.lua:3: stack defaults (for service 'a'): key 'cwd' expects a string (directory path), got number");
}

TEST_CASE("a syntax error is reported with file and line as Lua gives them") {
  CHECK(load_error("service 'a' {\n  cmd = 'x'\n  cwd = 'y'\n}\n") ==
        "stack.lua:3: '}' expected (to close '{' at line 1) near 'cwd'");
}

TEST_CASE("a runtime error is reported with file and line") {
  CHECK(load_error("local t = nil\nservice 'a' { cmd = t.x }\n") ==
        "stack.lua:2: attempt to index a nil value (local 't')");
  CHECK(load_error("error('custom failure')\n") == "stack.lua:1: custom failure");
  CHECK(load_error("error()\n") == "stack.lua: error object is a nil value");
  CHECK(load_error("error(setmetatable({}, { __tostring = function() return 'mine' end }))\n") == "mine");
}

TEST_CASE("a service body must be a table") {
  CHECK(load_error("service 'a' 'oops'\n") ==
        "stack.lua:1: service 'a': expects a table of keys: service \"a\" { cmd = ... }, got string");
  CHECK(load_error("service 'a'\n") == "stack.lua:1: service 'a': has no body: service \"a\" { cmd = ... }");
}

TEST_CASE("an unknown restart string or backoff option is reported") {
  CHECK(load_error("service 'a' { cmd = 'x', restart = 'on_failure' }\n") ==
        "stack.lua:1: service 'a': key 'restart' unknown restart policy \"on_failure\"; did you mean "
        "'on-failure'? (use \"always\", \"on-failure\", \"never\", a backoff policy or a function)");
  CHECK(load_error("local b = require 'luvsup.backoff'\nservice 'a' {\n cmd = 'x',\n restart = b.exponential { inital = 1 } }\n") ==
        "stack.lua:4: backoff.exponential: unknown option 'inital'; did you mean 'initial'?");
  CHECK(load_error("local b = require 'luvsup.backoff'\nservice 'a' { cmd = 'x', restart = b.fixed { max_restarts = 100 } }\n") ==
        "stack.lua:2: backoff.fixed: max_restarts must be at most 60 (luvsup keeps the last 64 exits), got 100");
}

TEST_CASE("blocking functions raise an error naming the alternative") {
  CHECK(load_error("os.execute('ls')\n") ==
        "stack.lua:1: os.execute blocks the supervisor; in a hook or task use exec { ... }, which waits without blocking it; elsewhere run the command as a health.exec probe or a oneshot service");
  CHECK(load_error("io.popen('ls')\n") == "stack.lua:1: io.popen blocks the supervisor; in a hook or task use exec { ... }, which waits without blocking it; elsewhere run the command as a health.exec probe or a oneshot service");
  CHECK(load_error("os.exit(1)\n").find("os.exit would stop the supervisor") != std::string::npos);
}

TEST_CASE("a stack file that loops forever is stopped at its line") {
  const std::string err = load_error("local n = 0\nwhile true do n = n + 1 end\n");
  CHECK(err.find("stack.lua:2: Lua code exceeded its instruction budget") == 0);
}

TEST_CASE("a bad env file line is reported") {
  luvsup::test::TempDir dir;
  dir.write("a.env", "A=\"unterminated\n");
  auto result = luvsup::lua::load_stack(dir.write("stack.lua", "service 'a' { cmd = 'x', env_file = 'a.env' }\n"));
  REQUIRE(std::holds_alternative<luvsup::lua::LoadError>(result));
  CHECK(std::get<luvsup::lua::LoadError>(result).message.find("a.env: line 1: unterminated double quote") !=
        std::string::npos);
}

TEST_CASE("a depends_on table with restart names the dependency and the bad sub-key") {
  const std::string db = "service 'db' { cmd = 'x' }\n";
  CHECK(load_error(db + "service 'api' { cmd = 'x', depends_on = { db = { condition = 'started', restar = true } } }\n") ==
        "stack.lua:2: service 'api': key 'depends_on.db' has an unknown key 'restar'; did you mean 'restart'?");
  CHECK(load_error(db + "service 'api' { cmd = 'x', depends_on = { db = { restart = 'yes' } } }\n") ==
        "stack.lua:2: service 'api': key 'depends_on.db' expects restart = true or false, got string");
  CHECK(load_error(db + "service 'api' { cmd = 'x', depends_on = { db = { condition = 'up' } } }\n") ==
        "stack.lua:2: service 'api': key 'depends_on' condition \"up\" for 'db' must be \"started\", \"healthy\" or \"completed\"");
}

TEST_CASE("a hook that is not a function, a bad hook_timeout and a misspelt hook are reported") {
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  before_start = 'free the port',\n}\n") ==
        "stack.lua:3: service 'web': key 'before_start' expects a function(svc) returning false, "
        "reason to refuse the start, got string");
  CHECK(load_error("service 'web' { cmd = 'x', on_exit = true }\n") ==
        "stack.lua:1: service 'web': key 'on_exit' expects a function(svc, exit), got boolean");
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  hook_timeout = -1,\n}\n") ==
        "stack.lua:3: service 'web': key 'hook_timeout' expects a duration >= 0 (seconds), got -1");
  CHECK(load_error("service 'web' { cmd = 'x', hook_timeout = 0 }\n") ==
        "stack.lua:1: service 'web': key 'hook_timeout' must be above 0");
  CHECK(load_error("service 'web' {\n  cmd = 'x',\n  on_fatl = function() end,\n}\n") ==
        "stack.lua:3: service 'web': unknown key 'on_fatl'; did you mean 'on_fatal'?");
  CHECK(load_error("service 'web' { cmd = 'x', pre_start = function() end }\n") ==
        "stack.lua:1: service 'web': unknown key 'pre_start'; did you mean 'before_start'?");
  CHECK(load_error("stack {\n  on_reload = 'log it',\n}\nservice 'web' { cmd = 'x' }\n") ==
        "stack.lua:2: stack: key 'on_reload' expects a function(plan), got string");
  CHECK(load_error("stack { defaults = { on_fatal = 1 } }\nservice 'web' { cmd = 'x' }\n") ==
        "stack.lua:1: stack defaults (for service 'web'): key 'on_fatal' expects a function(svc), got number");
}

TEST_CASE("of several bad keys, the first in the schema's order is reported, wherever it is written") {
  CHECK(load_error("service 'a' { watch = 5, umask = true, cmd = 'x', cwd = 5 }\n") ==
        "stack.lua:1: service 'a': key 'cwd' expects a string (directory path), got number");
  CHECK(load_error("service 'a' { watch = 5, umask = true, cmd = 'x' }\n") ==
        "stack.lua:1: service 'a': key 'umask' expects an octal mode like 0022 or \"022\", got boolean");
}
