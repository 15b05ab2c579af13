"""HTTP health probes on real servers: the HTTP test server of
tests/helpers/http_test_server.py (run as the supervised service itself, so
luvsup probes its own child, or by the test for the error cases) and small
python3 http.server scripts written by the tests."""
import json
import os
import re
import socket
import subprocess
import urllib.request

from harness import ROOT, check, free_port, lines_in_order, wait_until

SERVER = os.path.join(ROOT, "tests", "helpers", "http_test_server.py")

# An HTTP server that answers 500 "not yet" while it warms up, then 200
# "ready". It warms up until it has run for --warm-up seconds and answered
# --warm-up-requests requests, so that a prober sees 500s however slowly it
# runs. Once the --broken-flag file exists it answers 500 again. With
# --tcp-port it also listens there (opened after the HTTP port, so that a
# connection there means the HTTP port is open too).
SWITCHING = '''
import argparse, http.server, os, socket, threading, time
parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("--warm-up", type=float, default=0)
parser.add_argument("--warm-up-requests", type=int, default=0)
parser.add_argument("--broken-flag")
parser.add_argument("--tcp-port", type=int)
args = parser.parse_args()
start, answered = time.monotonic(), 0

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global answered
        answered += 1
        warming = answered <= args.warm_up_requests or time.monotonic() - start < args.warm_up
        broken = args.broken_flag is not None and os.path.exists(args.broken_flag)
        status, body = (500, b"not yet") if warming or broken else (200, b"ready")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

def accept_and_close(listener):
    while True:
        listener.accept()[0].close()

server = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
if args.tcp_port:
    listener = socket.create_server(("127.0.0.1", args.tcp_port), reuse_port=False)
    threading.Thread(target=accept_and_close, args=(listener,), daemon=True).start()
server.serve_forever()
'''


def make_certificate(t):
    """A self-signed certificate for 127.0.0.1 made by the openssl CLI: (cert, key)."""
    cert, key = t.file("cert.pem"), t.file("key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def server_cmd(*args):
    """The Lua argv that runs the HTTP test server as a luvsup service."""
    return "{ " + ", ".join(f'"{a}"' for a in ["python3", SERVER, "--until-killed", *args]) + " }"


class TestSideServer:
    """The HTTP test server run by the test; it exits when its stdin closes."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(["python3", SERVER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        check(line, "the HTTP test server printed its ports")
        self.ports = json.loads(line)

    def url(self, path, scheme="http"):
        return f"{scheme}://127.0.0.1:{self.ports[scheme]}{path}"

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def with_server(test, *args):
    server = TestSideServer(*args)
    try:
        test(server)
    finally:
        server.close()


def test_a_healthy_http_service_gates_its_dependent(t):
    port = free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "web" {{
  cmd = {server_cmd("--http-port", port)},
  health = health.http {{ url = "http://127.0.0.1:{port}/ok", expect_body = "^hello$",
                          start_interval = 0.1, start_period = 600 }},
}}
service "client" {{
  cmd = {{ "sleep", "1000" }},
  depends_on = {{ web = "healthy" }},
}}
''')
    run = t.run()
    run.wait_log(r"client: started")
    check(lines_in_order(run.log(), r"web: started", r"web: healthy \(http 200 in \d+ms\)",
                         r"web: ready \(probe\)", r"client: started"), "client starts once web's probe passed")
    check(run.stop() == 0, "clean shutdown")


def test_a_500_makes_the_service_unhealthy_after_its_retries_and_it_is_restarted_with_backoff(t):
    # The server is the test's, so that every probe of every spawn gets its 500.
    def test(server):
        t.stack(f'''
local health = require "luvsup.health"
local backoff = require "luvsup.backoff"
service "web" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "{server.url("/status/500")}", interval = 0.1, start_interval = 0.1,
                          retries = 2 }},
  restart = backoff.exponential {{ initial = 0.2, factor = 2, jitter = 0 }},
}}
''')
        run = t.run()
        run.wait_log(r"web: restarting in 0\.4s")
        log = run.log()
        check(lines_in_order(log, r"web: health probe failed \(1/2\): HTTP 500 \(expected 200-399\)",
                             r"web: unhealthy after 2 failures: HTTP 500 \(expected 200-399\)",
                             r"web: restarting: unhealthy \(HTTP 500 \(expected 200-399\)\)",
                             r"web: restarting in 0\.2s"), "failures, unhealthy, restart, backoff in order")
        delays = [float(d) for d in re.findall(r"web: restarting in ([\d.]+)s", log)]
        check(delays[:2] == [0.2, 0.4], f"the backoff grows: {delays}")
        check(len(re.findall(r"web: unhealthy after 2 failures: HTTP 500", log)) == 2, "once per spawn")
        check("web: unhealthy after 1 failure" not in log, "one failure is below the retries")
        check(run.count(r"web: started") >= 2, "restarted")
        check(run.stop() == 0, "clean shutdown")

    with_server(test)


def test_a_body_that_does_not_match_expect_body_fails_with_the_pattern(t):
    port = free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "web" {{
  cmd = {server_cmd("--http-port", port)},
  health = health.http {{ url = "http://127.0.0.1:{port}/ok", expect_body = "^goodbye",
                          start_interval = 0.1, retries = 1 }},
  on_unhealthy = function() return "wait" end,
}}
service "big" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "http://127.0.0.1:{port}/big?bytes=1000000", expect_body = "^0123456789",
                          start_interval = 0.1, start_period = 600 }},
}}
''')
    run = t.run()
    # retries = 1: every failure fires (a first one may be "connection refused").
    run.wait_log(r'web: unhealthy after \d+ failures?: HTTP 200 but the body does not match "\^goodbye"')
    check(run.count(r"web: started") == 1, "on_unhealthy chose to wait")
    # A body past the cap is matched on its start.
    run.wait_log(r"big: healthy \(http 200 in \d+ms\)")
    check(run.stop() == 0, "clean shutdown")


def test_expect_status_lists_and_ranges_are_honoured(t):
    def test(server):
        t.stack(f'''
local health = require "luvsup.health"
local function probe(path, expect)
  return health.http {{ url = "{server.url("")}" .. path, expect_status = expect, start_interval = 0.1,
                        interval = 0.1, retries = 1 }}
end
local wait = function() return "wait" end
service "list" {{ cmd = {{ "sleep", "1000" }}, health = probe("/status/204", {{ 200, 204 }}) }}
service "range" {{ cmd = {{ "sleep", "1000" }}, health = probe("/status/404", "400-499") }}
service "redirect" {{ cmd = {{ "sleep", "1000" }}, health = probe("/redirect", nil) }}
service "outside" {{ cmd = {{ "sleep", "1000" }}, health = probe("/status/200", {{ 201, "500-599" }}),
                     on_unhealthy = wait }}
service "default" {{ cmd = {{ "sleep", "1000" }}, health = probe("/status/404", nil), on_unhealthy = wait }}
''')
        run = t.run()
        run.wait_log(r"list: healthy \(http 204 in \d+ms\)")
        run.wait_log(r"range: healthy \(http 404 in \d+ms\)")
        run.wait_log(r"redirect: healthy \(http 302 in \d+ms\)")
        run.wait_log(r"outside: unhealthy after 1 failure: HTTP 200 \(expected 201, 500-599\)")
        run.wait_log(r"default: unhealthy after 1 failure: HTTP 404 \(expected 200-399\)")
        log = run.log()
        for name in ("list", "range", "redirect"):
            check(not re.search(rf"{name}: .*HTTP \d+ \(expected", log), f"{name}'s status always passes")
        check(run.stop() == 0, "clean shutdown")

    with_server(test)


def test_a_refused_connection_fails_the_probe(t):
    port = free_port()  # nothing listens there
    t.stack(f'''
local health = require "luvsup.health"
service "app" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "http://127.0.0.1:{port}/ok", start_interval = 0.1, interval = 0.1,
                          retries = 2 }},
  on_unhealthy = function() return "wait" end,
}}
''')
    run = t.run()
    run.wait_log(r"app: health probe failed \(1/2\): connection refused")
    run.wait_log(r"app: unhealthy after 2 failures: connection refused")
    check(run.stop() == 0, "clean shutdown")


def test_an_endpoint_that_hangs_past_the_timeout_times_out(t):
    def test(server):
        t.stack(f'''
local health = require "luvsup.health"
service "app" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "{server.url("/hang")}", timeout = 0.3, start_interval = 0.1,
                          interval = 0.1, retries = 2 }},
  on_unhealthy = function() return "wait" end,
}}
service "patient" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "{server.url("/hang")}", timeout = 3600, start_interval = 0.1 }},
}}
''')
        run = t.run()
        run.wait_log(r"app: health probe failed \(1/2\): timed out after 0\.3s")
        run.wait_log(r"app: unhealthy after 2 failures: timed out after 0\.3s")
        # patient's probe is in flight for an hour: stopping cancels it.
        check(run.stop() == 0, "clean shutdown")
        check("patient: health probe failed" not in run.log(), "patient's probe never ended")

    with_server(test)


def test_a_listener_that_accepts_and_never_answers_times_out(t):
    def test(server):
        t.stack(f'''
local health = require "luvsup.health"
service "app" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "http://127.0.0.1:{server.ports["silent"]}/", timeout = 0.3,
                          start_interval = 0.1, interval = 0.1, retries = 2 }},
  on_unhealthy = function() return "wait" end,
}}
''')
        run = t.run()
        run.wait_log(r"app: health probe failed \(1/2\): timed out after 0\.3s")
        run.wait_log(r"app: unhealthy after 2 failures: timed out after 0\.3s")
        check(run.stop() == 0, "clean shutdown")

    with_server(test)


def test_a_self_signed_certificate_fails_with_tls_verify_and_passes_without(t):
    cert, key = make_certificate(t)
    http_port, https_port = free_port(), free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "secure" {{
  cmd = {server_cmd("--http-port", http_port, "--https-port", https_port, "--cert", cert, "--key", key)},
  health = health.http {{ url = "https://127.0.0.1:{https_port}/ok", tls_verify = false, expect_body = "hello",
                          start_interval = 0.1, start_period = 600 }},
}}
service "strict" {{
  cmd = {{ "sleep", "1000" }},
  depends_on = {{ secure = "healthy" }},
  health = health.http {{ url = "https://127.0.0.1:{https_port}/ok", start_interval = 0.1, interval = 0.1,
                          retries = 1 }},
  on_unhealthy = function() return "wait" end,
}}
''')
    run = t.run()
    run.wait_log(r"secure: healthy \(http 200 in \d+ms\)")
    run.wait_log(r"strict: unhealthy after 1 failure: TLS: certificate verify failed \(.+\)")
    check(not re.search(r"secure: health probe failed.*TLS", run.log()), "tls_verify = false accepts the certificate")
    check(run.stop() == 0, "clean shutdown")


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


def test_failures_during_the_start_period_do_not_count(t):
    t.write("switching.py", SWITCHING)
    slow, eager = free_port(), free_port()
    # eager's server is the test's and listens before luvsup starts, so that
    # eager's first probe is a 500, not a refused connection.
    warming = subprocess.Popen(["python3", t.file("switching.py"), str(eager), "--warm-up", "3600"])
    try:
        wait_until(lambda: accepts(eager), what="eager's server to listen")
        t.stack(f'''
local health = require "luvsup.health"
local backoff = require "luvsup.backoff"
service "slow" {{
  cmd = {{ "python3", "switching.py", "{slow}", "--warm-up", "1", "--warm-up-requests", "3" }},
  health = health.http {{ url = "http://127.0.0.1:{slow}/", start_period = 600, start_interval = 0.1,
                          interval = 0.1, retries = 1 }},
}}
service "eager" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "http://127.0.0.1:{eager}/", start_interval = 0.1, interval = 0.1,
                          retries = 1 }},
  restart = backoff.fixed {{ delay = 0.2 }},
}}
''')
        run = t.run()
        run.wait_log(r"slow: healthy \(http 200 in \d+ms\)")
        log = run.log()
        check(lines_in_order(log, r"slow: health probe failed \(not counted in the start period\): "
                                  r"HTTP 500 \(expected 200-399\)", r"slow: healthy"), "500s before it was healthy")
        check("slow: unhealthy" not in log and run.count(r"slow: started") == 1, "slow was never restarted")
        # The same 500s without a start period: the first one counts.
        run.wait_log(r"eager: unhealthy after 1 failure: HTTP 500 \(expected 200-399\)")
        run.wait_log(r"eager: restarting: unhealthy \(HTTP 500 \(expected 200-399\)\)")
        check(run.stop() == 0, "clean shutdown")
    finally:
        warming.kill()
        warming.wait()


def connections(port):
    """How many connections the HTTP test server on `port` has accepted."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/connections", timeout=10) as reply:
        return int(reply.read())


def held(port):
    """How many connections the silent listener of the HTTP test server on `port` has accepted."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/held", timeout=10) as reply:
        return int(reply.read())


def test_a_404_primary_with_a_passing_tcp_fallback_is_not_restarted_and_looks_broken(t):
    port = free_port()
    t.stack(f'''
local health = require "luvsup.health"
service "api" {{
  cmd = {server_cmd("--http-port", port)},
  health = health.http {{ url = "http://127.0.0.1:{port}/wrong-endpoint", interval = 0.1,
                          start_interval = 0.1, retries = 1, start_period = 600,
                          fallback = health.tcp {{ port = {port} }} }},
}}
''')
    run = t.run()
    run.wait_log(r"api: the health probe looks broken \(HTTP 404 \(expected 200-399\)\) but its fallback passes: "
                 r"counting the service healthy")
    run.wait_log(rf"api: healthy \(fallback tcp 127\.0\.0\.1:{port} in \d+ms\)")
    # Each round's fallback is a new connection to the server: twenty more
    # (not counting the test's own polls) are rounds far past `retries`.
    at_healthy, polls = connections(port), [1]

    def rounds():
        polls[0] += 1
        return connections(port) - at_healthy - polls[0] >= 20

    wait_until(rounds, what="twenty more probe rounds")
    log = run.log()
    check(run.count(r"api: started") == 1, "never restarted")
    check("unhealthy" not in log and not re.search(r"health probe failed \(\d+/", log), "no failure counted")
    check(run.count(r"the health probe looks broken \(HTTP 404") == 1, "the warning is logged once")
    check(run.stop() == 0, "clean shutdown")


def test_once_the_primary_passed_the_fallback_excuses_it_only_for_the_grace(t):
    t.write("switching.py", SWITCHING)
    port, tcp_port = free_port(), free_port()
    t.stack(f'''
local health = require "luvsup.health"
local backoff = require "luvsup.backoff"
service "api" {{
  cmd = {{ "python3", "switching.py", "{port}", "--broken-flag", "broken", "--tcp-port", "{tcp_port}" }},
  health = health.http {{ url = "http://127.0.0.1:{port}/", interval = 0.1, start_interval = 0.1,
                          retries = 2, start_period = 600, fallback_grace = 1,
                          fallback = health.tcp {{ port = {tcp_port} }} }},
  restart = backoff.fixed {{ delay = 0.2 }},
}}
''')
    run = t.run()
    run.wait_log(r"api: healthy \(http 200 in \d+ms\)")
    t.write("broken", "")
    run.wait_log(r"api: restarting: unhealthy")
    log = run.log()
    check(lines_in_order(log, r"api: healthy \(http 200",
                         r"api: health probe failing \(HTTP 500 \(expected 200-399\)\); its fallback passes, "
                         r"excused for 1s at most",
                         r"api: unhealthy after 2 failures: HTTP 500 \(expected 200-399\) \(the fallback passes, "
                         r"but its grace of 1s is over\)",
                         r"api: restarting: unhealthy"), "excused, then unhealthy after the grace")
    check("looks broken" not in log, "a primary that passed is not called broken")
    check(run.stop() == 0, "clean shutdown")


def test_the_method_and_headers_are_sent(t):
    def test(server):
        t.stack(f'''
local health = require "luvsup.health"
service "app" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "{server.url("/echo")}", method = "PUT",
                          headers = {{ ["X-Probe"] = "luvsup-test", Authorization = "Bearer s3cret" }},
                          expect_body = "^method: PUT\\n.*header x%-probe: luvsup%-test\\n",
                          start_interval = 0.1, start_period = 600 }},
}}
service "wrong" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "{server.url("/echo")}", expect_body = "header x%-probe:",
                          start_interval = 0.1, retries = 1 }},
  on_unhealthy = function() return "wait" end,
}}
''')
        run = t.run()
        run.wait_log(r"app: healthy \(http 200 in \d+ms\)")
        # Without the header, the same pattern fails: the pass above is the header's.
        run.wait_log(r'wrong: unhealthy after 1 failure: HTTP 200 but the body does not match "header x%-probe:"')
        check(not re.search(r"app: health probe failed.*body does not match", run.log()),
              "the PUT with its headers passed at once")
        check(run.stop() == 0, "clean shutdown")

    with_server(test)


def maps_libcurl(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libcurl" in f.read()


def test_libcurl_is_loaded_only_by_a_stack_with_probes_that_need_it(t):
    # Plain http:// to an address goes through luvsup's direct engine; https
    # (and host names to resolve) through libcurl, loaded on first use.
    port = free_port()
    for name, probe in (("plain", f"health.tcp {{ port = {port}"),
                        ("direct", f'health.http {{ url = "http://127.0.0.1:{port}/ok"')):
        t.stack(f'''
local health = require "luvsup.health"
service "{name}" {{
  cmd = {server_cmd("--http-port", port)},
  health = {probe}, start_interval = 0.1, start_period = 600 }},
}}
''', name=f"{name}.lua")
        run = t.run(stack=f"{name}.lua")
        run.wait_log(rf"{name}: healthy \((tcp 127\.0\.0\.1:{port}|http 200) in \d+ms\)")
        check(not maps_libcurl(run.pid), f"a stack with {name} probes does not map libcurl")
        check(run.stop() == 0, "clean shutdown")

    t.stack(f'''
local health = require "luvsup.health"
service "tls" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "https://127.0.0.1:{port}/ok", start_interval = 0.1, start_period = 600 }},
}}
''', name="tls.lua")
    run = t.run(stack="tls.lua")
    run.wait_log(r"tls: health probe failed \(not counted in the start period\): connection refused")
    check(maps_libcurl(run.pid), "a stack with an https probe maps libcurl")
    check(run.stop() == 0, "clean shutdown")


def test_a_reloaded_probe_that_never_passed_is_excused_by_its_fallback_again(t):
    port, silent = free_port(), free_port()
    # The fallback connects to the silent listener, which the server opens
    # after its HTTP port: the first pass is the primary's.
    stack = '''
local health = require "luvsup.health"
service "api" {{
  cmd = {cmd},
  health = health.http {{ url = "http://127.0.0.1:{port}{path}", interval = 0.1, start_interval = 0.1,
                          retries = 1, start_period = 600, fallback_grace = 0.1,
                          fallback = health.tcp {{ port = {silent} }} }},
}}
'''
    cmd = server_cmd("--http-port", port, "--silent-port", silent)
    t.stack(stack.format(cmd=cmd, port=port, silent=silent, path="/ok"))
    run = t.run()
    run.wait_log(r"api: healthy \(http 200 in \d+ms\)")
    # The new definition has never passed: its failures are the probe's, not
    # the service's, however short the grace of the old one that did pass.
    t.stack(stack.format(cmd=cmd, port=port, silent=silent, path="/wrong-endpoint"))
    run.wait_log(r"reload: ~api \(health changed")
    run.wait_log(r"api: the health probe looks broken \(HTTP 404 \(expected 200-399\)\) but its fallback passes")
    at_warning = held(port)
    wait_until(lambda: held(port) - at_warning >= 10, what="ten more probe rounds")
    log = run.log()
    check(run.count(r"api: started") == 1, "never restarted")
    check("unhealthy" not in log and "grace" not in log, "the old definition's grace does not apply")
    check(run.stop() == 0, "clean shutdown")


def test_a_url_or_header_curl_would_refuse_is_an_error_at_load_not_a_restart_loop(t):
    t.stack('''
local health = require "luvsup.health"
service "api" {
  cmd = { "sleep", "1000" },
  health = health.http { url = "http://127.0.0.1:8080/health", headers = { ["X-Token"] = "a\\r\\nX-Evil: 1" } },
}
''')
    code, _, err = t.check()
    check(code != 0, "check fails")
    check("stack.lua:5: service 'api': key 'health.headers' expects values without line breaks, got "
          'X-Token = "a\\r\\nX-Evil: 1"' in err, err)
    t.stack('''
local health = require "luvsup.health"
service "api" { cmd = { "sleep", "1000" }, health = health.http "http://127.0.0.1:8080/my health" }
''')
    code, _, err = t.check()
    check(code != 0 and "stack.lua:3: service 'api': key 'health.url' expects a URL without spaces" in err, err)


# An HTTP/1.1 server that keeps connections alive but closes every second one
# right after its response (without saying so in a Connection header), and
# writes "<requests> <connections>" to a file after each response.
KEEPALIVE = '''
import http.server, sys
port, counts = int(sys.argv[1]), sys.argv[2]
state = {"requests": 0, "connections": 0}

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        state["connections"] += 1

    def do_GET(self):
        state["requests"] += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.wfile.flush()
        self.close_connection = state["requests"] % 2 == 0
        with open(counts + ".tmp", "w") as f:
            f.write(f"{state['requests']} {state['connections']}")
        __import__("os").replace(counts + ".tmp", counts)

    def log_message(self, *args):
        pass

class Server(http.server.HTTPServer):
    def handle_error(self, request, client_address):
        pass  # a probe resets its connection once answered

Server(("127.0.0.1", port), Handler).serve_forever()
'''


def test_every_probe_has_a_connection_of_its_own_and_a_server_killed_between_probes_fails(t):
    # The server would keep every other connection alive; a probe asks it to
    # close and never reuses one, so that each probe proves the server still
    # accepts connections. A server that is gone fails the next probe.
    port, counts = free_port(), t.file("counts")
    with open(t.file("server.py"), "w") as f:
        f.write(KEEPALIVE)
    server = subprocess.Popen(["python3", t.file("server.py"), str(port), counts])
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return True
            except OSError:
                return False

        wait_until(listening, 20, "the keep-alive server listens")
        t.stack(f'''
local health = require "luvsup.health"
service "app" {{
  cmd = {{ "sleep", "1000" }},
  health = health.http {{ url = "http://127.0.0.1:{port}/ok", start_interval = 0.05, interval = 0.05,
                          retries = 1 }},
  on_unhealthy = function() return "wait" end,
}}
''')
        run = t.run()
        run.wait_log(r"app: healthy")

        def read_counts():
            try:
                with open(counts) as f:
                    requests, connections = map(int, f.read().split())
            except (OSError, ValueError):
                return None
            return (requests, connections) if requests >= 20 else None

        requests, connections = wait_until(read_counts, 60, "20 probes answered")
        # One more connection than requests: the test's own check that the server listens.
        check(connections == requests + 1,
              f"one connection per probe ({requests} requests, {connections} connections)")
        check(run.count(r"app: health probe failed") == 0, "no probe failed while the server ran")
        check(run.count(r"app: unhealthy") == 0, "never unhealthy while the server ran")
        server.kill()
        server.wait()
        run.wait_log(r"app: unhealthy after 1 failure: connection refused")
        check(run.stop() == 0, "clean shutdown")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
