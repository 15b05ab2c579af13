"""No process of a service survives it: grandchildren, setsid daemons, and a
luvsup that was itself SIGKILLed."""
import os
import signal

from harness import HELPERS, check, pid_alive, tagged_pids, wait_until


def read_pid(t, name):
    return int(t.wait_file(name, lambda s: s.strip().isdigit()).strip())


def test_grandchildren_and_setsid_daemon_gone_after_stop_and_exit(t):
    t.stack(f'''
service "tree" {{
  cmd = [[sleep 1000 & echo $! > child.pid; {HELPERS}/double_fork daemon.pid; exec sleep 1000]],
}}
''')
    run = t.run()
    child, daemon = read_pid(t, "child.pid"), read_pid(t, "daemon.pid")
    check(pid_alive(child) and pid_alive(daemon), "both descendants run")
    check(os.getsid(daemon) != os.getsid(child), "the daemon left the service's session")
    check(run.stop() == 0, "clean shutdown")
    check(not pid_alive(child), "background child gone")
    check(not pid_alive(daemon), "double-forked daemon gone")
    check(tagged_pids(t.file("stack.lua")) == [], "nothing tagged left")


def test_leftovers_of_a_crashed_service_are_killed_before_it_restarts(t):
    # The main process daemonises and exits at once; the daemon is a leftover.
    t.stack(f'''
service "forker" {{
  cmd = [[{HELPERS}/double_fork daemon-$$.pid; exit 1]],
  restart = require("luvsup.backoff").fixed {{ delay = 0 }},
}}
''')
    run = t.run()
    run.wait_log(r"forker: stopping processes left behind")
    run.wait_log(r"forker: started", count=2)
    log = run.log()
    check(log.index("stopping processes left behind") < log.index("forker: started", log.index("forker: started") + 1),
          "the leftovers were stopped before the restart")
    first = [f for f in os.listdir(t.path) if f.startswith("daemon-") and f.endswith(".pid")]
    check(first, "a daemon pid file")
    run.stop()
    for f in os.listdir(t.path):
        if f.startswith("daemon-") and f.endswith(".pid"):
            check(not pid_alive(int(t.read(f).strip())), f"daemon from {f} gone")


def test_killed_luvsup_is_replaced_without_duplicate_services(t):
    t.stack(f'''
service "solo" {{
  cmd = [[echo $$ >> pids.txt; {HELPERS}/double_fork daemon.pid; exec sleep 1000]],
}}
''')
    first = t.run()
    first.wait_log(r"solo: started")
    old_main = int(t.wait_file("pids.txt", lambda s: s.strip()).split()[0])
    old_daemon = read_pid(t, "daemon.pid")
    first.send(signal.SIGKILL)
    first.wait()
    check(pid_alive(old_main) and pid_alive(old_daemon), "the services outlived their supervisor")
    os.unlink(t.file("daemon.pid"))

    second = t.run()
    second.wait_log(r"leftover from a previous run")
    second.wait_log(r"solo: started")
    wait_until(lambda: not pid_alive(old_main) and not pid_alive(old_daemon),
               what="the previous run's processes to be gone")
    read_pid(t, "daemon.pid")
    stack = t.file("stack.lua")
    # One main process and one daemon: exactly one copy of the service.
    check(len(tagged_pids(stack, "solo")) == 2, f"one copy: {tagged_pids(stack, 'solo')}")
    check(second.stop() == 0, "clean shutdown")
    check(tagged_pids(stack) == [], "nothing left")


def test_a_second_luvsup_for_the_same_stack_refuses_to_start(t):
    t.stack('service "only" { cmd = { "sleep", "1000" } }\n')
    first = t.run()
    first.wait_log(r"only: started")
    pids = tagged_pids(t.file("stack.lua"), "only")
    second = t.run()
    rc = second.wait()
    check(rc == 1, f"the second run fails, got {rc}")
    check(f"already supervised by luvsup pid {first.pid}" in second.log(), second.log())
    check(tagged_pids(t.file("stack.lua"), "only") == pids, "the first run's service was not touched")
    check(first.stop() == 0, "the first run stops cleanly")


def cgroups_usable():
    """The condition under which luvsup gives each service a cgroup."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split(" - ")[0].split()[4] for line in f if " - cgroup2 " in line]
    with open("/proc/self/cgroup") as f:
        own = [line.strip()[3:] for line in f if line.startswith("0::")]
    return bool(mounts and own) and os.access(mounts[0] + ("" if own[0] == "/" else own[0]), os.W_OK)


def test_a_daemon_that_sheds_its_tag_and_session_is_still_stopped(t):
    if not cgroups_usable():
        return  # without a writable cgroup2 hierarchy only the tag attributes processes
    t.stack(f'''
service "escaper" {{
  cmd = [[{HELPERS}/escape_env daemon.pid; exec sleep 1000]],
}}
''')
    run = t.run()
    daemon = read_pid(t, "daemon.pid")
    wait_until(lambda: not any(v.startswith(b"LUVSUP_SERVICE=") for v in
                               open(f"/proc/{daemon}/environ", "rb").read().split(b"\0")),
               what="the daemon to exec without its tag")
    main = int(run.wait_log(r"escaper: started \(pid (\d+)\)")[0].group(1))
    check(os.getsid(daemon) != os.getsid(main), "the daemon left the service's session")
    with open(f"/proc/{daemon}/stat") as f:
        parent = int(f.read().rsplit(")", 1)[1].split()[1])
    check(parent != main, "the daemon is not the main process's child")
    with open(f"/proc/{daemon}/cgroup") as f:
        check("/escaper" in f.read(), "the daemon is in its service's cgroup")
    check(run.stop() == 0, "clean shutdown")
    check(not pid_alive(daemon), "the escaped daemon is gone")
