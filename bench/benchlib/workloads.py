"""Workloads 1-6 of issue 7: every supervisor on the same services."""

import os
import signal
import statistics
import time
from contextlib import ExitStack, contextmanager

from . import procfs
from .peers import Svc
from .results import Figure, Table

MIB = 1024 * 1024


def log(msg):
    print(f"bench: {msg}", flush=True)


@contextmanager
def running(ctx, cls, label, svcs, mode, env=None):
    peer = cls(ctx, ctx.fresh_dir(f"{label}-{cls.name}"))
    try:
        peer.launch(svcs, mode, env)
        yield peer
    finally:
        peer.stop()


def count_comm(peer, name):
    table = procfs.process_table()
    return sum(1 for p in procfs.descendants(peer.root, table) if table[p][1] == name)


def read_stamps(path):
    """[(monotonic ns, pid)] the stamp helper appended to `path`."""
    text = procfs.read(path) or ""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out.append((int(parts[0]), int(parts[1])))
    return out


def threads(pids):
    return sum(int(procfs.status_field(p, "Threads") or 0) for p in pids)


def unmeasured(ctx):
    """peer name -> why it is not in this run."""
    return dict(ctx.unavailable)


# 1. Idle memory -------------------------------------------------------------

def idle_memory(ctx):
    sizes = [10, 50] if ctx.quick else [50, 200, 500]
    settle = 1 if ctx.quick else 5
    res = {}
    evidence = {}
    # The last run: the smallest size again, each service writing one line
    # before it sleeps, so that the supervisor's logging machinery has woken
    # up once (for luvsup: its file-writing thread pool).
    runs = [(n, False) for n in sizes] + [(sizes[0], True)]
    for n, chatty in runs:
        for cls in ctx.peers:
            log(f"idle memory: {cls.name} with {n} services" + (", one line each" if chatty else ""))
            argv = (["/bin/sh", "-c", "echo ready; exec /bin/sleep 100000"] if chatty
                    else ["/bin/sleep", "100000"])
            svcs = [Svc(f"s{i}", argv) for i in range(n)]
            key = (cls.name, f"{n}+line") if chatty else (cls.name, n)
            with running(ctx, cls, f"mem{n}", svcs, "default") as p:
                up = procfs.wait_until(lambda: count_comm(p, "sleep") >= n, 240, 0.1)
                if not up:
                    res[key] = f"only {count_comm(p, 'sleep')}/{n} up after 240 s"
                    continue
                time.sleep(settle)
                pids = p.supervisor_pids()
                pss = sum(procfs.pss_kib(x) or 0 for x in pids)
                uss = sum(procfs.uss_kib(x) for x in pids)
                res[key] = (pss, len(pids), threads(pids), uss)
                if cls.name == "luvsup":
                    evidence[key[1]] = procfs.rollup(pids[0])
    t = Table("1. Idle memory (PSS of the supervisor's own processes)",
              f"`sleep` services, PSS from /proc/PID/smaps_rollup summed over the supervisor's "
              f"processes (not the services), {settle} s after all are up. Cells: PSS MiB, "
              f"USS MiB (Private_Clean + Private_Dirty: what no other process shares, so it "
              f"does not depend on what else runs), processes/threads. Baseline and "
              f"per-service cost of PSS: straight line through {sizes[0]} and {sizes[-1]} "
              f"services.",
              ["supervisor"] + [f"{n} services" for n in sizes] + ["baseline MiB", "KiB/service",
                                                                   f"{sizes[0]} services, one "
                                                                   f"line of output each"])
    figures = []
    for cls in ctx.peers:
        cells = []
        for n in sizes:
            v = res.get((cls.name, n))
            cells.append(f"{v[0] / 1024:.2f}, USS {v[3] / 1024:.2f}, {v[1]}/{v[2]}"
                         if isinstance(v, tuple) else
                         f"not measured: {v}")
        a, b = res.get((cls.name, sizes[0])), res.get((cls.name, sizes[-1]))
        if isinstance(a, tuple) and isinstance(b, tuple):
            per = (b[0] - a[0]) / (sizes[-1] - sizes[0])
            base = (a[0] - per * sizes[0]) / 1024
            cells += [base, per]
        else:
            cells += ["—", "—"]
        v = res.get((cls.name, f"{sizes[0]}+line"))
        cells.append(f"{v[0] / 1024:.2f}, USS {v[3] / 1024:.2f}, {v[1]}/{v[2]}"
                     if isinstance(v, tuple) else f"not measured: {v}")
        t.add(cls.name, *cells)
    for name, why in unmeasured(ctx).items():
        t.add(name, *([f"not measured: {why}"] * len(sizes)), "—", "—", f"not measured: {why}")
    for n, ev in evidence.items():
        label = f"{n[:-5]} services after one line each" if isinstance(n, str) else f"{n} services"
        t.notes.append(f"luvsup at {label}, smaps_rollup (KiB): " + ", ".join(
            f"{k} {v}" for k, v in ev.items() if k in ("Rss", "Pss", "Pss_Anon", "Pss_File",
                                                        "Private_Dirty", "Anonymous")))
    targets = {50: 3.0, 500: 6.0}
    for n in sizes:
        values = {c.name: (res[(c.name, n)][0] / 1024 if isinstance(res.get((c.name, n)), tuple)
                           else res.get((c.name, n))) for c in ctx.peers}
        values.update(unmeasured(ctx))
        f = Figure(f"idle PSS, {n} services", "MiB", values)
        if n in targets:
            f.target = f"< {targets[n]:.0f} MiB and below every peer"
            lv, best = values.get("luvsup"), f.best_peer()
            if isinstance(lv, float) and best:
                f.verdict = "met" if lv < targets[n] and lv < best[1] else "missed"
        figures.append(f)
        uss = {c.name: (res[(c.name, n)][3] / 1024 if isinstance(res.get((c.name, n)), tuple)
                        else res.get((c.name, n))) for c in ctx.peers}
        uss.update(unmeasured(ctx))
        figures.append(Figure(f"idle USS, {n} services", "MiB", uss))
    line = {c.name: (res[(c.name, f"{sizes[0]}+line")][0] / 1024
                     if isinstance(res.get((c.name, f"{sizes[0]}+line")), tuple)
                     else res.get((c.name, f"{sizes[0]}+line"))) for c in ctx.peers}
    line.update(unmeasured(ctx))
    figures.append(Figure(f"idle PSS, {sizes[0]} services after one line each", "MiB", line))
    return [t], figures


# 2. Idle CPU ----------------------------------------------------------------

def idle_cpu(ctx):
    n = 10 if ctx.quick else 50
    window = 5 if ctx.quick else 20
    log(f"idle CPU: all supervisors side by side, {n} services each, {window} s window")
    t = Table("2. Idle CPU and wakeups",
              f"{n} `sleep` services per supervisor, all supervisors side by side, no probes; "
              f"CPU time (schedstat, all threads) and context switches of the supervisor's "
              f"processes over the same {window} s window. A voluntary switch is one sleep, "
              f"so it counts wakeups.",
              ["supervisor", "processes/threads", "CPU ms", "% of a core", "voluntary switches",
               "involuntary switches", "wakeups/s"])
    values_cpu, values_wake = {}, {}
    with ExitStack() as stack:
        peers = []
        for cls in ctx.peers:
            svcs = [Svc(f"s{i}", ["/bin/sleep", "100000"]) for i in range(n)]
            peers.append(stack.enter_context(running(ctx, cls, "cpu", svcs, "default")))
        ok = {p.name: procfs.wait_until(lambda p=p: count_comm(p, "sleep") >= n, 240, 0.1)
              for p in peers}
        time.sleep(3 if ctx.quick else 5)
        live = [p for p in peers if ok[p.name]]
        pids = {p.name: p.supervisor_pids() for p in live}
        before = {name: procfs.cpu_sample(ps) for name, ps in pids.items()}
        per_thread = {}
        if "luvsup" in pids:
            per_thread = {tid: procfs.cpu_sample_task(pids["luvsup"][0], tid)
                          for tid in procfs.tasks(pids["luvsup"][0])}
        time.sleep(window)
        after = {name: procfs.cpu_sample(ps) for name, ps in pids.items()}
        for tid, (_, v0) in per_thread.items():
            _, v1 = procfs.cpu_sample_task(pids["luvsup"][0], tid)
            name = (procfs.read(f"/proc/{pids['luvsup'][0]}/task/{tid}/comm") or "?").strip()
            role = "main loop" if tid == pids["luvsup"][0] else "other thread"
            t.notes.append(f"luvsup thread {tid} ({name}, {role}): {v1 - v0} voluntary "
                           f"switches in the window")
        for p in peers:
            if p.name not in after:
                why = f"not all {n} services came up"
                t.add(p.name, *([f"not measured: {why}"] * 6))
                values_cpu[p.name] = values_wake[p.name] = why
                continue
            b, a = before[p.name], after[p.name]
            cpu_ms = (a[0] - b[0]) / 1e6
            vol, invol = a[1] - b[1], a[2] - b[2]
            t.add(p.name, f"{len(pids[p.name])}/{threads(pids[p.name])}", cpu_ms,
                  cpu_ms / (window * 10), vol, invol, vol / window)
            values_cpu[p.name] = cpu_ms
            values_wake[p.name] = float(vol)
    for name, why in unmeasured(ctx).items():
        t.add(name, *([f"not measured: {why}"] * 6))
        values_cpu[name] = values_wake[name] = why
    f_cpu = Figure(f"idle CPU, {n} services, {window} s", "ms", values_cpu)
    f_wake = Figure(f"idle wakeups, {n} services, {window} s", "voluntary switches", values_wake,
                    target="0 wakeups (event-driven, as s6)")
    lw = values_wake.get("luvsup")
    if isinstance(lw, float):
        f_wake.verdict = "met" if lw == 0 else "missed"
    return [t], [f_cpu, f_wake]


# 3. Restart latency -----------------------------------------------------------

def kill_cycle(stamp_file, kills, respawn=None, min_up=1.6):
    """Kills the newest stamped process `kills` times, each after it has run
    min_up seconds; returns (latencies in ms, error or None)."""
    lat = []
    for k in range(kills):
        stamps = procfs.wait_until(lambda: read_stamps(stamp_file), 15)
        if not stamps:
            return lat, "the service never started"
        ts, pid = stamps[-1]
        up = (time.monotonic_ns() - ts) / 1e9
        if up < min_up:
            time.sleep(min_up - up)
        n_before = len(stamps)
        t0 = time.monotonic_ns()
        os.kill(pid, signal.SIGKILL)
        if respawn:
            respawn(pid)
        new = procfs.wait_until(lambda: len(read_stamps(stamp_file)) > n_before, 10, 0.001)
        if not new:
            return lat, f"no replacement within 10 s of kill {k + 1}"
        lat.append((read_stamps(stamp_file)[n_before][0] - t0) / 1e6)
    return lat, None


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def restart_latency(ctx):
    kills = 2 if ctx.quick else 20
    stamp = ctx.bins["stamp"]
    t = Table("3. Restart latency",
              f"One service that appends a CLOCK_MONOTONIC stamp as its first action; SIGKILL "
              f"after it has run 1.6 s, latency = replacement's stamp - time of the kill; "
              f"{kills} kills, each supervisor at its minimum restart delay (luvsup "
              f"`backoff.fixed {{ delay = 0 }}`, supervisord `autorestart=true`, pm2 "
              f"`restart_delay: 0`, runit and s6 have no delay after a run over 1 s). Floor: the "
              f"harness kills, reaps and posix_spawns the same binary itself.",
              ["supervisor", "kills", "p50 ms", "p90 ms", "max ms", "p50 - floor p50 ms"])
    res = {}
    for cls in ctx.peers:
        log(f"restart latency: {cls.name}, {kills} kills")
        d = ctx.fresh_dir(f"restart-{cls.name}-stamps")
        sf = str(d / "stamps")
        with running(ctx, cls, "restart", [Svc("r", [stamp])], "fast", {"STAMP_FILE": sf}):
            res[cls.name] = kill_cycle(sf, kills)
    log("restart latency: floor (direct spawn)")
    d = ctx.fresh_dir("restart-floor")
    sf = str(d / "stamps")
    env = dict(os.environ, STAMP_FILE=sf, BENCH_TAG=ctx.tag)
    os.posix_spawn(stamp, [stamp], env)

    def respawn(pid):
        os.waitpid(pid, 0)
        os.posix_spawn(stamp, [stamp], env)
    res["floor"] = kill_cycle(sf, kills, respawn)
    last = read_stamps(sf)
    if last:
        os.kill(last[-1][1], signal.SIGKILL)
        os.waitpid(last[-1][1], 0)
    floor = res["floor"][0]
    floor50 = statistics.median(floor) if floor else None
    values = {}
    for name, (lat, err) in res.items():
        if not lat:
            t.add(name, 0, *([f"not measured: {err}"] * 4))
            values[name] = err
            continue
        p50 = statistics.median(lat)
        t.add(name, len(lat), p50, pct(lat, 0.9), max(lat),
              p50 - floor50 if floor50 is not None and name != "floor" else "—")
        if err:
            t.notes.append(f"{name}: {err}")
        if p50 > 500:
            t.notes.append(f"{name}: every replacement came about {p50 / 1000:.1f} s after the "
                           f"kill: the supervisor's own respawn timing at its minimum setting.")
        if name != "floor":
            values[name] = p50
    for name, why in unmeasured(ctx).items():
        t.add(name, 0, *([f"not measured: {why}"] * 4))
        values[name] = why
    f = Figure("restart latency p50", "ms", values,
               reference=("direct spawn", floor50) if floor50 is not None else None,
               target="p50 within 2 ms of the floor, ahead of runit and s6")
    lv = values.get("luvsup")
    if isinstance(lv, float) and floor50 is not None:
        rivals = [values[k] for k in ("runit", "s6") if isinstance(values.get(k), float)]
        f.verdict = "met" if lv - floor50 <= 2 and all(lv < r for r in rivals) else "missed"
    return [t], [f]


# 4. Crash loop ------------------------------------------------------------------

def crash_loop(ctx):
    window = 5 if ctx.quick else 10
    stamp = ctx.bins["stamp"]
    t = Table("4. Crash loop with default settings",
              f"A service that exits 1 at once, every setting at its default; starts counted "
              f"over {window} s from the first, the gaps between starts, and whether the "
              f"supervisor gave up (its own status at the end).",
              ["supervisor", f"starts in {window} s", "gaps between starts (s)", "gave up",
               "last start at (s)"])
    values = {}
    # Quick mode runs the supervisors side by side to save time; the full
    # run gives each the machine to itself.
    groups = [ctx.peers] if ctx.quick else [[c] for c in ctx.peers]
    for group in groups:
        log(f"crash loop: {', '.join(c.name for c in group)}")
        with ExitStack() as stack:
            started = []
            for cls in group:
                sf = str(ctx.fresh_dir(f"crash-{cls.name}-stamps") / "stamps")
                svc = Svc("crash", [stamp])
                p = stack.enter_context(running(ctx, cls, "crash", [svc], "default",
                                                {"STAMP_FILE": sf, "STAMP_EXIT": "1"}))
                started.append((cls, p, sf, svc))
            for cls, p, sf, svc in started:
                first = procfs.wait_until(lambda: read_stamps(sf), 30)
                if not first:
                    t.add(cls.name, "not measured: the service never started", "—", "—", "—")
                    values[cls.name] = "never started"
                    continue
                t0 = first[0][0]
                rest = t0 / 1e9 + window + 0.5 - time.monotonic()
                if rest > 0:
                    time.sleep(rest)
                stamps = [s for s in read_stamps(sf) if s[0] - t0 <= window * 1e9]
                gaps = [(b[0] - a[0]) / 1e9 for a, b in zip(stamps, stamps[1:])]
                gave = p.gave_up(svc)
                shown = ", ".join(f"{g:.2f}" for g in gaps[:12]) + (" …" if len(gaps) > 12 else "")
                t.add(cls.name, len(stamps), shown or "—", gave, (stamps[-1][0] - t0) / 1e9)
                values[cls.name] = float(len(stamps))
    for name, why in unmeasured(ctx).items():
        t.add(name, f"not measured: {why}", "—", "—", "—")
        values[name] = why
    f = Figure(f"crash loop: starts in {window} s", "starts", values, better="lower",
               target="(behaviour, no target)")
    return [t], [f]
