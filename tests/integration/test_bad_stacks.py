"""Every bad stack gives a message naming file:line, the service and the key,
and a non-zero exit, from both `check` and `run`; nothing is started."""
import re

from harness import check, tagged_pids

CASES = [
    # (stack text, expected message regex)
    ('service "web" {\n  cmd = { "sleep", "1" },\n  comand = "x",\n}\n',
     r"stack\.lua:3: service 'web': unknown key 'comand'; did you mean 'cmd'\?"),
    ('service "web" {\n  cmd = { "sleep", "1" },\n  cwd = 42,\n}\n',
     r"stack\.lua:3: service 'web': key 'cwd' expects a string.*got number"),
    ('service "api" {\n  cmd = "true",\n  depends_on = { "db" },\n}\n',
     r"stack\.lua:3: service 'api': depends_on names unknown service 'db'"),
    ('service "a" { cmd = "true", depends_on = { "b" } }\nservice "b" { cmd = "true", depends_on = { "a" } }\n',
     r"^stack\.lua:\d+: dependency cycle: a -> b -> a"),
    ('service "web" { cmd = "true" }\nservice "web" { cmd = "true" }\n',
     r"stack\.lua:2: .*duplicate.*'web'|stack\.lua:2: service 'web'.*already"),
    ('service "web" {\n  cmd = "true",\n  stop = { timeout = "ten seconds" },\n}\n',
     r"stack\.lua:3: service 'web': .*timeout.*duration"),
    ('service "web" {\n  cmd = "true",\n  stop = { signal = "TREM" },\n}\n',
     r"stack\.lua:3: service 'web': .*signal.*TREM"),
    ('service "web" {\n  cmd = "true",\n  limits = { nofiles = 10 },\n}\n',
     r"stack\.lua:3: service 'web': .*limit.*'nofiles'.*nofile"),
    ('service "bad name!" { cmd = "true" }\n',
     r"stack\.lua:1: bad service name \"bad name!\": use letters, digits"),
    ('service "web" {\n  cmd = "true"\n  cwd = "x",\n}\n',
     r"stack\.lua:3: .*'}' expected"),
    ('local x = nil\nx.y = 1\n',
     r"stack\.lua:2: attempt to index"),
    ('service "web" {\n  cmd = { "sleep", 1 },\n  restart = "sometimes",\n}\n',
     r"stack\.lua:3: service 'web': key 'restart' unknown restart policy \"sometimes\""),
    ('service "web" { }\n',
     r"stack\.lua:1: service 'web': .*cmd"),
]


def test_every_bad_stack_case_is_reported_by_check_and_run(t):
    failures = []
    for i, (text, pattern) in enumerate(CASES):
        t.stack(text)
        rc, out, err = t.check()
        if rc == 0 or not re.search(pattern, err, re.M):
            failures.append(f"check case {i}: rc={rc} stderr={err!r} wanted {pattern!r}")
            continue
        run = t.run()
        rc = run.wait()
        if rc == 0 or not re.search(pattern, run.log(), re.M):
            failures.append(f"run case {i}: rc={rc} log={run.log()!r}")
    check(not failures, "\n".join(failures))
    check(tagged_pids(t.file("stack.lua")) == [], "nothing started")


def test_missing_stack_file_is_reported(t):
    rc, out, err = t.check("nope.lua")
    check(rc != 0 and "nope.lua" in err, f"rc={rc} err={err!r}")


def test_check_prints_services_in_start_order(t):
    t.stack('''
service "web" { cmd = "true", depends_on = { "api", "cache" } }
service "api" { cmd = "true", depends_on = { "db" } }
service "db" { cmd = "true" }
service "cache" { cmd = "true" }
''')
    rc, out, err = t.check()
    check(rc == 0, f"valid stack: {err}")
    check("1. db, cache" in out and "2. api" in out and "3. web" in out, out)


def test_usage_errors_exit_2(t):
    import subprocess
    from harness import LUVSUP
    for args in (["frobnicate"], ["run", "--bogus"], ["run", "--log-level", "loud"], []):
        proc = subprocess.run([LUVSUP, *args], capture_output=True, text=True)
        check(proc.returncode == 2 and "usage:" in proc.stderr, f"{args}: {proc.returncode} {proc.stderr!r}")
