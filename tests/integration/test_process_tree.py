"""No process of a service survives it: grandchildren, setsid daemons, and a
luvsup that was itself SIGKILLed."""
import os
import signal
import subprocess

from harness import HELPERS, LUVSUP, check, pid_alive, tagged_pids, wait_until


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
    # One main process and one daemon: exactly one copy of the service. The
    # daemon writes its pid file before the double_fork process and its
    # intermediate child have exited, so wait for those to go; a second
    # copy of the service would keep four.
    wait_until(lambda: len(tagged_pids(stack, "solo")) == 2,
               what="one copy of the service: its main process and its daemon")
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


def service_cgroup_dir(pid):
    """The directory of the cgroup v2 `pid` is in."""
    with open("/proc/self/mountinfo") as f:
        mount = [line.split(" - ")[0].split()[4] for line in f if " - cgroup2 " in line][0]
    with open(f"/proc/{pid}/cgroup") as f:
        path = [line.strip()[3:] for line in f if line.startswith("0::")][0]
    return mount + path


def test_a_service_keeps_its_cgroup_across_restarts_until_it_leaves_the_stack(t):
    if not cgroups_usable():
        return  # without a writable cgroup2 hierarchy there is no cgroup to keep
    fast = 'restart = require("luvsup.backoff").fixed { delay = 0 }'
    kept = f'service "kept" {{ cmd = {{ "sleep", "1000" }}, {fast} }}\n'
    t.stack(kept + 'service "dropped" { cmd = { "sleep", "1001" } }\n')
    run = t.run()
    first = int(run.wait_log(r"kept: started \(pid (\d+)\)")[0].group(1))
    dropped = int(run.wait_log(r"dropped: started \(pid (\d+)\)")[0].group(1))
    kept_dir, dropped_dir = service_cgroup_dir(first), service_cgroup_dir(dropped)
    check(kept_dir.endswith("/kept") and dropped_dir.endswith("/dropped"), "one cgroup per service")
    inode = os.stat(kept_dir).st_ino
    os.kill(first, signal.SIGKILL)
    second = int(run.wait_log(r"kept: started \(pid (\d+)\)", count=2)[1].group(1))
    check(service_cgroup_dir(second) == kept_dir, "the replacement starts in the same cgroup")
    check(os.stat(kept_dir).st_ino == inode, "the cgroup was kept, not made again")
    check(open(os.path.join(kept_dir, "cgroup.procs")).read().split() == [str(second)],
          "only the replacement is in it")
    tmp = t.file("stack.lua.tmp")
    with open(tmp, "w") as f:
        f.write(kept)
    os.replace(tmp, t.file("stack.lua"))
    run.wait_log(r"dropped: removed from the stack")
    wait_until(lambda: not os.path.exists(dropped_dir), what="the removed service's cgroup to go")
    check(os.path.exists(kept_dir), "the remaining service keeps its cgroup")
    check(run.stop() == 0, "clean shutdown")
    check(not os.path.exists(kept_dir), "luvsup removes its services' cgroups when it exits")
    check(not os.path.exists(os.path.dirname(kept_dir)), "and the stack's cgroup")


def test_a_cgroup_a_previous_run_left_is_made_afresh_and_a_new_one_made_without_it(t):
    if not cgroups_usable():
        return  # without a writable cgroup2 hierarchy there is no cgroup to leave behind
    t.stack('service "old" { cmd = { "sleep", "1000" } }\nservice "new" { cmd = { "sleep", "1001" } }\n')
    run = t.run()
    old_dir = service_cgroup_dir(int(run.wait_log(r"old: started \(pid (\d+)\)")[0].group(1)))
    new_dir = service_cgroup_dir(int(run.wait_log(r"new: started \(pid (\d+)\)")[0].group(1)))
    check(run.stop() == 0, "clean shutdown")
    check(not os.path.exists(old_dir), "luvsup removed the cgroups when it exited")
    # What a killed luvsup leaves: the stack's cgroup with an empty service
    # cgroup that was killed once, in which the kernel would SIGKILL every
    # child created there.
    os.makedirs(old_dir)
    with open(os.path.join(old_dir, "cgroup.kill"), "w") as f:
        f.write("1")
    inode = os.stat(old_dir).st_ino
    run = t.run()
    old = int(run.wait_log(r"old: started \(pid (\d+)\)")[0].group(1))
    new = int(run.wait_log(r"new: started \(pid (\d+)\)")[0].group(1))
    check(service_cgroup_dir(old) == old_dir and service_cgroup_dir(new) == new_dir,
          "each service in its cgroup")
    check(os.stat(old_dir).st_ino != inode, "the left cgroup was made afresh")
    check(pid_alive(old) and pid_alive(new), "both services are up")
    check(open(os.path.join(old_dir, "cgroup.procs")).read().split() == [str(old)],
          "the old service runs in its new cgroup")
    check(run.stop() == 0, "clean shutdown")
    check(not os.path.exists(os.path.dirname(old_dir)), "and the stack's cgroup is gone")


def test_a_service_killed_at_its_stop_timeout_starts_again_and_stays_up(t):
    # The SIGKILL goes through cgroup.kill; a child created in a cgroup that
    # was once killed must not be killed at birth by the kernel.
    t.stack(f'service "stubborn" {{ cmd = {{ "{HELPERS}/ignore_term" }}, stop = {{ timeout = 1 }} }}\n')
    run = t.run()
    first = int(run.wait_log(r"stubborn: started \(pid (\d+)\)")[0].group(1))
    restart = subprocess.run([LUVSUP, "restart", "stubborn"], cwd=t.path, capture_output=True,
                             text=True, timeout=30)
    check(restart.returncode == 0, f"restart: {restart.stderr}")
    run.wait_log(r"stubborn: still running 1s after SIGTERM; sending SIGKILL")
    second = int(run.wait_log(r"stubborn: started \(pid (\d+)\)", count=2)[1].group(1))
    check(second != first and not pid_alive(first), "a new process after the old one was killed")
    wait_until(lambda: tagged_pids(t.file("stack.lua"), "stubborn") == [second],
               what="the new process to be the only one")
    check(pid_alive(second), "the new process is still up")
    run.stop()
    check(not pid_alive(second), "and gone after shutdown")
