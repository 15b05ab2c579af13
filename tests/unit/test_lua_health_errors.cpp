// Mistakes in the health, ready, watchdog, start_timeout and on_unhealthy
// keys are reported as "file:line: service 'x': key '...' ...".
#include "test_lua_support.hpp"

#include <doctest/doctest.h>

using luvsup::test::load_error;

namespace {
std::string err(const std::string& body) {
  return load_error("local health = require 'luvsup.health'\nservice 'web' {\n  cmd = 'x',\n" +
                    body + "\n}\n");
}
} // namespace

TEST_CASE("a health value that is not a probe is reported") {
  CHECK(err("  health = 5,") == "stack.lua:4: service 'web': key 'health' expects a probe "
                                "(health.http{}, health.tcp{}, health.exec{}, "
                                "health.all{}, health.any{}) or a function, got number");
}

TEST_CASE("an unknown probe key is reported at its line with a suggestion") {
  CHECK(err("  health = health.tcp { port = 1,\n    intervl = 5 },") ==
        "stack.lua:5: service 'web': unknown key 'health.intervl' for health.tcp; did you mean "
        "'interval'?");
  CHECK(
      err("  health = health.http { path = '/x' },") ==
      "stack.lua:4: service 'web': unknown key 'health.path' for health.http; did you mean 'url'?");
  CHECK(err("  health = health.tcp { port = 1, fallback = health.tcp { prot = 2 } },") ==
        "stack.lua:4: service 'web': unknown key 'health.fallback.prot' for health.tcp; did you "
        "mean 'port'?");
}

TEST_CASE("a URL or header value that libcurl would refuse on every probe is reported at load") {
  CHECK(err("  health = health.http { url = 'http://127.0.0.1:8080/a b' },") ==
        "stack.lua:4: service 'web': key 'health.url' expects a URL without spaces or control "
        "characters (write a space as %20), got \"http://127.0.0.1:8080/a b\"");
  CHECK(err("  health = health.http { url = 'http://127.0.0.1:99999/' },") ==
        "stack.lua:4: service 'web': key 'health.url' expects a URL with a host and an optional "
        "port from 1 to 65535, got \"http://127.0.0.1:99999/\"");
  CHECK(err("  health = health.http { url = 'http://[::1/' },") ==
        "stack.lua:4: service 'web': key 'health.url' expects a URL with a host and an optional "
        "port from 1 to 65535, got \"http://[::1/\"");
  CHECK(err("  health = health.http { url = 'http://x/', headers = { X = 'b\\r\\nY: 1' } },") ==
        "stack.lua:4: service 'web': key 'health.headers' expects values without line breaks, got "
        "X = \"b\\r\\nY: 1\"");
  for (const char* url : {"http://[::1]:8080/x", "https://user:pw@example.com/",
                          "http://example.com:/", "http://[fe80::1%25eth0]/", "http://x"}) {
    CAPTURE(url);
    CHECK(err(std::string("  health = health.http { url = '") + url + "' },") == "");
  }
}

TEST_CASE("schedule keys on a nested probe are reported") {
  CHECK(
      err("  health = health.tcp { port = 1, fallback = health.tcp { port = 2, retries = 1 } },") ==
      "stack.lua:4: service 'web': key 'health.fallback.retries' 'retries' belongs to the "
      "top-level probe of "
      "'health', not to a nested tcp probe");
}

TEST_CASE("bad probe values name the key and what is expected") {
  CHECK(err("  health = health.tcp { port = 70000 },") ==
        "stack.lua:4: service 'web': key 'health.port' expects a port from 1 to 65535, got 70000");
  CHECK(err("  health = health.tcp { port = 1, host = 'db.example' },") ==
        "stack.lua:4: service 'web': key 'health.host' expects an IP address (or \"localhost\"), "
        "got db.example");
  CHECK(err("  health = health.http { url = 'ftp://x' },") ==
        "stack.lua:4: service 'web': key 'health.url' expects an http:// or https:// URL, got "
        "\"ftp://x\"");
  CHECK(err("  health = health.http { url = 'http://x', expect_status = '200-99' },") ==
        "stack.lua:4: service 'web': key 'health.expect_status' expects an HTTP status (100-599), "
        "a list of them "
        "or a range like \"200-399\", got \"200-99\"");
  CHECK(err("  health = health.http { url = 'http://x', expect_body = '[oops' },") ==
        "stack.lua:4: service 'web': key 'health.expect_body' is not a valid Lua pattern: "
        "malformed pattern "
        "(missing ']')");
  CHECK(err("  health = health.http { url = 'http://x', tls_verify = 'no' },") ==
        "stack.lua:4: service 'web': key 'health.tls_verify' expects true or false, got string");
  CHECK(err("  health = health.exec { cmd = {} },") ==
        "stack.lua:4: service 'web': key 'health.cmd' expects a list of strings (argv) or a string "
        "run by /bin/sh -c");
  CHECK(err("  health = health.tcp { port = 1, retries = 0 },") ==
        "stack.lua:4: service 'web': key 'health.retries' expects a whole number >= 1, got 0");
  CHECK(err("  health = health.tcp { port = 1, interval = '5 minutes' },") ==
        "stack.lua:4: service 'web': key 'health.interval' expects a duration (seconds, or a "
        "string like \"500ms\", "
        "\"2s\", \"1m\", \"1h\"), got \"5 minutes\"");
  CHECK(err("  health = health.tcp { port = 1, timeout = 0 },") ==
        "stack.lua:4: service 'web': key 'health.timeout' must be above 0");
  CHECK(err("  health = health.tcp { port = 1, verdict = 'ok' },") ==
        "stack.lua:4: service 'web': key 'health.verdict' expects a function(result) returning "
        "ok[, error]");
  CHECK(err("  health = health.tcp { port = 1, fallback = 'tcp' },") ==
        "stack.lua:4: service 'web': key 'health.fallback' expects a probe (health.http{}, "
        "health.tcp{}, "
        "health.exec{}, health.all{}, health.any{}) or a function, got string");
  CHECK(err("  health = health.all {},") ==
        "stack.lua:4: service 'web': key 'health' health.all needs at least one probe");
}

TEST_CASE("a probe constructor called with the wrong argument is reported at its call") {
  CHECK(err("  health = health.tcp(true),") ==
        "stack.lua:4: health.tcp expects a table { port = ... }, got boolean");
}

TEST_CASE("bad ready values are reported, a bad Lua pattern at load time") {
  CHECK(err("  ready = { log = '%' },") == "stack.lua:4: service 'web': key 'ready.log' is not a "
                                           "valid Lua pattern: malformed pattern (ends with '%')");
  CHECK(err("  ready = { fd = 2 },") == "stack.lua:4: service 'web': key 'ready.fd' expects a "
                                        "descriptor number from 3 to 1023 (0-2 are stdin, "
                                        "stdout and stderr), got 2");
  CHECK(
      err("  ready = { notify = 'yes' },") ==
      "stack.lua:4: service 'web': key 'ready.notify' expects true (the service speaks sd_notify)");
  CHECK(err("  ready = { log = 'x', fd = 3 },") ==
        "stack.lua:4: service 'web': key 'ready' expects exactly one of { log = \"pattern\" }, { "
        "notify = true } "
        "or { fd = N }");
  CHECK(err("  ready = { lgo = 'x' },") ==
        "stack.lua:4: service 'web': unknown key 'ready.lgo'; did you mean 'log'?");
  CHECK(err("  ready = true,") == "stack.lua:4: service 'web': key 'ready' expects a table { log = "
                                  "\"pattern\" }, { notify = true } or "
                                  "{ fd = N }, got boolean");
}

TEST_CASE("a watchdog needs ready.notify and a positive duration") {
  CHECK(err("  watchdog = 10,") == "stack.lua:4: service 'web': key 'watchdog' needs ready = { "
                                   "notify = true }: the service sends WATCHDOG=1 "
                                   "over NOTIFY_SOCKET");
  CHECK(err("  ready = { notify = true },\n  watchdog = 0,") ==
        "stack.lua:5: service 'web': key 'watchdog' must be above 0");
  CHECK(err("  ready = { notify = true },\n  watchdog = 10,") == "");
}

TEST_CASE("bad start_timeout and on_unhealthy values are reported") {
  CHECK(err("  start_timeout = 'soon',") ==
        "stack.lua:4: service 'web': key 'start_timeout' expects a duration (seconds, or a string "
        "like \"500ms\", "
        "\"2s\", \"1m\", \"1h\"), got \"soon\"");
  CHECK(err("  start_timeout = 0,") ==
        "stack.lua:4: service 'web': key 'start_timeout' must be above 0");
  CHECK(err("  on_unhealthy = 'restart',") ==
        "stack.lua:4: service 'web': key 'on_unhealthy' expects a function(svc, result) returning "
        "\"restart\", "
        "\"wait\" or nil, got string");
}

TEST_CASE("names from other supervisors suggest the health keys") {
  CHECK(err("  healthcheck = 1,") ==
        "stack.lua:4: service 'web': unknown key 'healthcheck'; did you mean 'health'?");
  CHECK(err("  readiness = 1,") ==
        "stack.lua:4: service 'web': unknown key 'readiness'; did you mean 'ready'?");
}

TEST_CASE("valid health definitions load") {
  CHECK(
      err("  health = health.http { url = 'https://127.0.0.1:8443/health', expect_status = { 200, "
          "'300-302' },\n"
          "    expect_body = 'ok', headers = { Host = 'x' }, tls_verify = false, method = 'HEAD',\n"
          "    start_period = '30s', start_interval = '500ms', success_threshold = 2,\n"
          "    fallback = health.any { health.tcp(8443), health.exec 'true' }, fallback_grace = 10 "
          "},") == "");
  CHECK(err("  health = function() return true end,\n  on_unhealthy = function() return 'wait' "
            "end,") == "");
}
