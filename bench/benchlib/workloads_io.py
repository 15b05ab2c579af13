"""Workloads 5 (log throughput) and 6 (cold start) of issue 7."""

import hashlib
import os
import statistics
import subprocess
import time

from . import procfs
from .peers import Svc
from .results import Figure, Table
from .workloads import log, read_stamps, running, unmeasured

LINE = 128
CHUNK = 8 * 1024 * 1024


def expected_digest(ctx, total):
    """sha256 of exactly what the writer writes, read from a pipe."""
    env = dict(os.environ, WRITER_BYTES=str(total), WRITER_EXIT="1", BENCH_TAG=ctx.tag)
    w = subprocess.Popen([ctx.bins["writer"]], stdout=subprocess.PIPE, env=env)
    h = hashlib.sha256()
    n = 0
    for chunk in iter(lambda: w.stdout.read(CHUNK), b""):
        h.update(chunk)
        n += len(chunk)
    w.wait()
    return h.hexdigest(), n


def payload(files, records):
    """(sha256 of the service's bytes, their count, luvsup notes) from the
    log files; `records` strips luvsup's "TIMESTAMP MARK " prefix."""
    h = hashlib.sha256()
    n = notes = 0
    rest = b""
    for path in files:
        try:
            f = open(path, "rb")
        except OSError:
            continue
        with f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                if not records:
                    h.update(chunk)
                    n += len(chunk)
                    continue
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                lines = data[:cut].split(b"\n")[:-1]
                good = [ln for ln in lines if ln[24:25] == b"|"]
                notes += len(lines) - len(good)
                out = b"\n".join(ln[26:] for ln in good) + b"\n" if good else b""
                h.update(out)
                n += len(out)
    return h.hexdigest(), n, notes


def log_size(files):
    total = 0
    for p in files:
        try:
            total += os.stat(p).st_size
        except OSError:
            pass
    return total


def cat_reference(ctx, total, digest):
    d = ctx.fresh_dir("log-cat")
    start = d / "start"
    env = dict(os.environ, WRITER_BYTES=str(total), WRITER_EXIT="1",
               WRITER_START_FILE=str(start), BENCH_TAG=ctx.tag)
    with open(d / "out.log", "wb") as out:
        w = subprocess.Popen([ctx.bins["writer"]], stdout=subprocess.PIPE, env=env)
        c = subprocess.Popen(["cat"], stdin=w.stdout, stdout=out)
        w.stdout.close()
        c.wait()
        t_end = time.monotonic_ns()
        w.wait()
    t0 = read_stamps(start)[0][0]
    got, n, _ = payload([d / "out.log"], False)
    os.unlink(d / "out.log")
    return total / ((t_end - t0) / 1e9) / 1e6, got == digest, total - n


def measure_log(ctx, cls, total, lines, digest):
    """One log-throughput run of `cls`: a dict with mbs (or why, when it
    could not be measured), lost, intact, cpu, switches, peak and log_format."""
    d = ctx.fresh_dir(f"log-{cls.name}-files")
    start = d / "start"
    svc = Svc("writer", [ctx.bins["writer"]], log_file=str(d / "logdir" / "writer.log"))
    (d / "logdir").mkdir()
    env = {"WRITER_BYTES": str(total), "WRITER_START_FILE": str(start)}
    with running(ctx, cls, "log", [svc], "log", env) as p:
        run = {"log_format": p.log_format}
        first = procfs.wait_until(lambda: read_stamps(start), 60, 0.002)
        if not first:
            run["why"] = "the writer never started"
            return run
        t0 = first[0][0]
        sample0 = procfs.cpu_sample(p.supervisor_pids())
        want = total + lines * p.log_prefix
        last_size, last_growth, t_end = -1, time.monotonic(), None
        while time.monotonic() - last_growth < 20:
            size = log_size(p.log_files(svc))
            if size >= want:
                t_end = time.monotonic_ns()
                break
            if size != last_size:
                last_size, last_growth = size, time.monotonic()
            time.sleep(0.005)
        pids = p.supervisor_pids()
        sample1 = procfs.cpu_sample(pids)
        run["cpu"] = (sample1[0] - sample0[0]) / 1e9
        run["switches"] = sample1[1] - sample0[1]
        run["peak"] = procfs.peak_rss_kib(pids) / 1024
    files = p.log_files(svc)
    got, n, notes = payload(files, cls.log_prefix > 0)
    for f in files:
        if os.path.exists(f):
            os.unlink(f)
    run["lost"] = max(0, total - n)
    run["intact"] = "yes" if got == digest else f"no ({notes} notes)" if notes else "no"
    if t_end is None:
        run["why"] = f"log stalled at {n} of {total} bytes"
    else:
        run["mbs"] = total / ((t_end - t0) / 1e9) / 1e6
    return run


def log_throughput(ctx):
    total = (32 if ctx.quick else 512) * 1024 * 1024
    lines = total // LINE
    rounds = 1 if ctx.quick else 3
    log(f"log throughput: expected content of {total >> 20} MiB")
    digest, n = expected_digest(ctx, total)
    assert n == total, f"writer wrote {n} bytes, not {total}"
    t = Table("5. Log throughput",
              f"One service writes {total >> 20} MiB of 128-byte lines to stdout (64 KiB "
              f"writes); MB/s (10^6 bytes) of service output from its first byte until the log "
              f"holds every byte; rotation off (s6-log cannot turn it off: its archives are "
              f"counted); bytes lost and content checked by sha256 of the payload; supervisor "
              f"CPU and voluntary context switches (each one a sleep: a hand-off between "
              f"threads or processes) from the first byte to the end, and peak RSS (VmHWM, summed over its "
              f"processes, loggers included). Reference: the same writer into `cat > file`. "
              f"{rounds} round(s) of the reference and every supervisor in turn, each run started "
              f"once the page cache's writeback of the previous one has settled; each row is "
              f"the run with the median MB/s of its rounds (all rounds listed).",
              ["supervisor", "log format", "MB/s (median)", "vs cat", "bytes lost", "content intact",
               "CPU s", "voluntary switches", "peak RSS MiB", "rounds (MB/s)"])
    ref_runs, runs = [], {cls.name: [] for cls in ctx.peers}
    for r in range(rounds):
        settle_writeback()
        log(f"log throughput: cat reference, round {r + 1}")
        ref_runs.append(cat_reference(ctx, total, digest))
        for cls in ctx.peers:
            settle_writeback()
            log(f"log throughput: {cls.name}, round {r + 1}")
            runs[cls.name].append(measure_log(ctx, cls, total, lines, digest))
    ref_mbs = statistics.median(m for m, _, _ in ref_runs)
    ref_ok = all(ok for _, ok, _ in ref_runs)
    ref_lost = max(lost for _, _, lost in ref_runs)
    values, cpu_values, mem_values = {}, {}, {}
    for cls in ctx.peers:
        measured = [run for run in runs[cls.name] if "mbs" in run]
        worst_lost = max(run.get("lost", 0) for run in runs[cls.name])
        intact = next((run["intact"] for run in runs[cls.name] if run.get("intact", "yes") != "yes"), "yes")
        listed = ", ".join(f"{run['mbs']:.0f}" if "mbs" in run else "—" for run in runs[cls.name])
        if len(measured) < len(runs[cls.name]):
            why = next(run["why"] for run in runs[cls.name] if "why" in run)
            fmt = runs[cls.name][0]["log_format"]
            t.add(cls.name, fmt, f"not measured: {why}", "—", worst_lost, intact, "—", "—", "—", listed)
            values[cls.name] = why
            continue
        run = sorted(measured, key=lambda x: x["mbs"])[len(measured) // 2]
        t.add(cls.name, run["log_format"], run["mbs"], f"{run['mbs'] / ref_mbs:.2f}", worst_lost, intact,
              run["cpu"], run["switches"], run["peak"], listed)
        values[cls.name], cpu_values[cls.name], mem_values[cls.name] = run["mbs"], run["cpu"], run["peak"]
    t.add("cat > file (reference)", "raw", ref_mbs, "1.00", ref_lost,
          "yes" if ref_ok else "no", "—", "—", "—", ", ".join(f"{m:.0f}" for m, _, _ in ref_runs))
    for name, why in unmeasured(ctx).items():
        t.add(name, "—", f"not measured: {why}", *(["—"] * 7))
        values[name] = cpu_values[name] = mem_values[name] = why
    f = Figure("log throughput", "MB/s", values, better="higher", reference=("cat", ref_mbs),
               target="≥ supervisord and ≥ 0.95 × cat, no byte lost")
    lv, sv = values.get("luvsup"), values.get("supervisord")
    if isinstance(lv, float):
        row = next(r for r in t.rows if r[0] == "luvsup")
        ok = lv >= 0.95 * ref_mbs and row[4] == "0" and row[5] == "yes"
        ok = ok and (not isinstance(sv, float) or lv >= sv)
        f.verdict = "met" if ok else "missed"
    return [t], [f, Figure("log CPU", "s", cpu_values), Figure("log peak RSS", "MiB", mem_values)]


# 6. Cold start -------------------------------------------------------------------

def dirty_kib():
    """Dirty plus Writeback pages in /proc/meminfo, KiB."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1])
    return total


def settle_writeback(limit_kib=16 * 1024, timeout=60):
    """Waits until the page cache's writeback is done: the log workload just
    wrote gigabytes, and the kernel flushing them would slow whichever
    supervisor starts first."""
    os.sync()
    procfs.wait_until(lambda: dirty_kib() < limit_kib, timeout, 0.1)


def cpu_times():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    total = sum(v[:8])
    return total - v[3] - v[4], total


def settle_cpu(window=0.2, busy_limit=0.1, timeout=5.0):
    """Waits until the machine was nearly idle for `window` seconds: the kernel
    tears the previous run's cgroups and processes down in the background
    (RCU callbacks, workqueues), which would slow whatever starts next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b0, t0 = cpu_times()
        time.sleep(window)
        b1, t1 = cpu_times()
        if t1 > t0 and (b1 - b0) / (t1 - t0) <= busy_limit:
            return


def own_cgroup_dir():
    """The cgroup2 directory this process is in, if it can make cgroups there,
    else None and why."""
    mount = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.startswith("cgroup2 ") and pre.split()[3] == "/":
                mount = pre.split()[4]
                break
    if mount is None:
        return None, "no cgroup2 hierarchy mounted"
    own = None
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                own = line[3:].strip()
    if own is None:
        return None, "not in a cgroup2 cgroup"
    path = mount + ("" if own == "/" else own)
    if not os.access(path, os.W_OK):
        return None, f"{path} is not writable"
    return path, None


def remove_cgroups(top, timeout=10):
    """Removes `top` and its service cgroups once their processes are gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            for name in os.listdir(top):
                if os.path.isdir(os.path.join(top, name)):
                    os.rmdir(os.path.join(top, name))
            os.rmdir(top)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def spawn_reference(ctx, n, stamp, sf, cgroups=None):
    """Seconds from launching the spawner until its n children have stamped."""
    env = dict(os.environ, STAMP_FILE=sf, BENCH_TAG=ctx.tag)
    settle_cpu()
    args = [ctx.bins["spawner"]] + (["--cgroups", cgroups] if cgroups else []) + [str(n), stamp]
    t0 = time.monotonic_ns()
    subprocess.run(args, env=env, check=True)
    procfs.wait_until(lambda: len(read_stamps(sf)) >= n, 60, 0.005)
    stamps = read_stamps(sf)
    seconds = (max(s[0] for s in stamps) - t0) / 1e9
    procfs.kill_tagged(ctx.tag)
    # The spawner has exited, so init reaps its children, here about a second
    # later: 200 zombies reaped in the middle of the next run would slow it.
    procfs.wait_until(lambda: not any(os.path.exists(f"/proc/{pid}") for _, pid in stamps), 30, 0.02)
    return seconds


def cold_start(ctx):
    n = 50 if ctx.quick else 200
    rounds = 1 if ctx.quick else 5
    stamp = ctx.bins["stamp"]
    cgroup_base, no_cgroups = own_cgroup_dir()
    t = Table("6. Cold start",
              f"From launching the supervisor (for pm2: `pm2 start`, daemon included) with {n} "
              f"services until all {n} have run their first instruction (each appends a "
              f"stamp). Floor: the harness spawns the same {n} commands itself (a small C "
              f"helper that posix_spawns them one after the other). Second reference: the same "
              f"helper doing only the kernel's part of what luvsup does per start (a session, "
              f"a fresh cgroup entered with clone3, /dev/null and an output pipe), no "
              f"supervisor logic. After the page cache's writeback has settled, {rounds} "
              f"round(s) of the floor, the reference and every supervisor in turn, each run "
              f"started once the CPUs have been idle for 0.2 s (the kernel tears down the "
              f"previous run's processes and cgroups in the background); each figure is the "
              f"median of its rounds (all rounds listed).",
              ["supervisor", "seconds (median)", "vs floor", "rounds (s)"])
    settle_writeback()
    runs = {cls.name: [] for cls in ctx.peers}
    failed = {}
    floors = []
    kernel_refs = []
    for r in range(rounds):
        log(f"cold start: floor (direct spawn), round {r + 1}")
        floors.append(spawn_reference(ctx, n, stamp, str(ctx.fresh_dir(f"cold-floor-{r}") / "stamps")))
        if cgroup_base:
            log(f"cold start: direct spawn with a session and a cgroup each, round {r + 1}")
            top = f"{cgroup_base}/luvsup-bench-{ctx.tag[:12]}"
            os.mkdir(top)
            try:
                kernel_refs.append(spawn_reference(
                    ctx, n, stamp, str(ctx.fresh_dir(f"cold-kernel-{r}") / "stamps"), top))
            finally:
                remove_cgroups(top)
        for cls in ctx.peers:
            if cls.name in failed:
                continue
            log(f"cold start: {cls.name}, {n} services, round {r + 1}")
            sf = str(ctx.fresh_dir(f"cold-{cls.name}-{r}-stamps") / "stamps")
            svcs = [Svc(f"s{i}", [stamp]) for i in range(n)]
            settle_cpu()
            t0 = time.monotonic_ns()
            with running(ctx, cls, "cold", svcs, "default", {"STAMP_FILE": sf}):
                done = procfs.wait_until(lambda: len(read_stamps(sf)) >= n, 240, 0.01)
                stamps = read_stamps(sf)
                if done:
                    runs[cls.name].append((max(s[0] for s in stamps[:n]) - t0) / 1e9)
                else:
                    failed[cls.name] = f"only {len(stamps)}/{n} started in 240 s"
    floor = statistics.median(floors)
    res = {name: (failed[name] if name in failed else statistics.median(v))
           for name, v in runs.items()}
    for name, v in res.items():
        t.add(name, v if isinstance(v, float) else f"not measured: {v}",
              f"{v / floor:.2f}" if isinstance(v, float) else "—",
              ", ".join(f"{x:.3f}" for x in runs[name]))
    t.add("direct spawn (floor)", floor, "1.00", ", ".join(f"{x:.3f}" for x in floors))
    if kernel_refs:
        kernel = statistics.median(kernel_refs)
        t.add("direct spawn + session + cgroup each (luvsup's kernel work)", kernel,
              f"{kernel / floor:.2f}", ", ".join(f"{x:.3f}" for x in kernel_refs))
    else:
        t.add("direct spawn + session + cgroup each (luvsup's kernel work)",
              f"not measured: {no_cgroups}", "—", "—")
    values = dict(res)
    for name, why in unmeasured(ctx).items():
        t.add(name, f"not measured: {why}", "—", "—")
        values[name] = why
    f = Figure(f"cold start, {n} services", "s", values, reference=("direct spawn", floor),
               target="≤ 1.25 × floor, ahead of every peer")
    lv, best = values.get("luvsup"), f.best_peer()
    if isinstance(lv, float):
        f.verdict = "met" if lv <= 1.25 * floor and (not best or lv < best[1]) else "missed"
    return [t], [f]
