"""Reading /proc: process trees, PSS, CPU time, context switches, and the
teardown that kills only the processes this harness started (they carry a
per-run tag in their environment)."""

import os
import signal
import time


def read(path, default=None):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return default


def stat_fields(pid):
    """(comm, fields after comm) of /proc/PID/stat, or None when gone."""
    text = read(f"/proc/{pid}/stat")
    if text is None:
        return None
    lpar, rpar = text.index("("), text.rindex(")")
    return text[lpar + 1:rpar], text[rpar + 2:].split()


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def process_table():
    """pid -> (ppid, comm) for every process now."""
    table = {}
    for pid in all_pids():
        st = stat_fields(pid)
        if st is not None:
            table[pid] = (int(st[1][1]), st[0])
    return table


def descendants(root, table=None):
    """Every live descendant of `root` (not root itself)."""
    table = table if table is not None else process_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def comm(pid):
    st = stat_fields(pid)
    return st[0] if st else None


def pss_kib(pid):
    """Pss of /proc/PID/smaps_rollup in KiB, or None when unreadable."""
    text = read(f"/proc/{pid}/smaps_rollup")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return None


def uss_kib(pid):
    """Private_Clean + Private_Dirty of smaps_rollup in KiB: the memory only
    this process holds, independent of what else maps the same libraries."""
    r = rollup(pid)
    return r.get("Private_Clean", 0) + r.get("Private_Dirty", 0)


def rollup(pid):
    """All fields of smaps_rollup (KiB), for the evidence section."""
    out = {}
    for line in (read(f"/proc/{pid}/smaps_rollup") or "").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            out[parts[0].rstrip(":")] = int(parts[1])
    return out


def status_field(pid, name, task=None):
    path = f"/proc/{pid}/task/{task}/status" if task else f"/proc/{pid}/status"
    for line in (read(path) or "").splitlines():
        if line.startswith(name + ":"):
            return line.split()[1]
    return None


def tasks(pid):
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def cpu_sample(pids):
    """Sum over every thread of `pids`: (cpu ns, voluntary switches,
    involuntary switches). schedstat gives nanoseconds, not 10 ms ticks."""
    cpu_ns = vol = invol = 0
    for pid in pids:
        for tid in tasks(pid):
            sched = read(f"/proc/{pid}/task/{tid}/schedstat")
            if sched:
                cpu_ns += int(sched.split()[0])
            v = status_field(pid, "voluntary_ctxt_switches", tid)
            n = status_field(pid, "nonvoluntary_ctxt_switches", tid)
            vol += int(v or 0)
            invol += int(n or 0)
    return cpu_ns, vol, invol


def cpu_sample_task(pid, tid):
    """(cpu ns, voluntary switches) of one thread."""
    sched = read(f"/proc/{pid}/task/{tid}/schedstat")
    vol = status_field(pid, "voluntary_ctxt_switches", tid)
    return (int(sched.split()[0]) if sched else 0), int(vol or 0)


def cpu_seconds(pids):
    """utime + stime of whole processes (all threads), in seconds."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        st = stat_fields(pid)
        if st:
            total += int(st[1][11]) + int(st[1][12])
    return total / hz


def peak_rss_kib(pids):
    total = 0
    for pid in pids:
        v = status_field(pid, "VmHWM")
        total += int(v or 0)
    return total


def tagged(tag):
    """Live pids whose environment holds BENCH_TAG=tag."""
    needle = f"BENCH_TAG={tag}".encode()
    out = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            out.append(pid)
    return out


def kill_tagged(tag, wait=3.0):
    """SIGTERM, then SIGKILL, every process carrying the run's tag."""
    pids = tagged(tag)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            pids = tagged(tag)
            if not pids:
                return
            time.sleep(0.05)


def wait_until(pred, timeout, step=0.02):
    """Polls pred() until it returns a true value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(step)
