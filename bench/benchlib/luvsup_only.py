"""Workload 7: luvsup alone (HTTP probes, reload, status --json, 1000
reloads). Each part first checks that the luvsup binary has the feature and
says "not measured: luvsup has no <feature> yet" when it does not."""

import http.server
import json
import os
import re
import statistics
import subprocess
import threading
import time

from . import procfs
from .peers import Luvsup, lua_str
from .results import Figure, Table
from .workloads import count_comm, log, read_stamps


def cli_has(ctx, command):
    """True when `luvsup --help` lists COMMAND on one of its usage lines
    (luvsup has no per-command --help: `luvsup reload --help` is an error)."""
    usage = [line for line in run_help(ctx).splitlines() if line.lstrip().startswith(("usage:", "luvsup "))]
    return any(re.search(rf"\b{re.escape(command)}\b", line.split("luvsup", 1)[-1]) for line in usage)


def run_help(ctx):
    r = subprocess.run([ctx.luvsup, "--help"], capture_output=True, text=True)
    return r.stdout + r.stderr


def health_stack(url, n, interval=1):
    lines = ['local health = require "luvsup.health"', 'stack { name = "bench" }']
    for i in range(n):
        lines.append(f'service "s{i}" {{ cmd = {{ "/bin/sleep", "100000" }}, '
                     f'health = health.http {{ url = {lua_str(url)}, interval = {interval} }} }}')
    return "\n".join(lines) + "\n"


def has_http_probes(ctx):
    d = ctx.fresh_dir("probe-check")
    (d / "stack.lua").write_text(health_stack("http://127.0.0.1:9/", 1))
    r = subprocess.run([ctx.luvsup, "check", "stack.lua"], cwd=d, capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[:1]


class LuvsupStack(Luvsup):
    """luvsup on a stack text given as it is."""

    def launch_text(self, text, env=None, extra_args=()):
        (self.dir / "stack.lua").write_text(text)
        return self.spawn([self.ctx.luvsup, "run", "--quiet", *extra_args, "stack.lua"], env or {})


class Counter(http.server.BaseHTTPRequestHandler):
    hits = 0
    lock = threading.Lock()

    def do_GET(self):
        with Counter.lock:
            Counter.hits += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class ProbeServer(http.server.ThreadingHTTPServer):
    # Every service probes at the same moment: with the default listen
    # backlog of 5 most connects overflow it, and the kernel's SYN retry a
    # second later halves the probe rate that gets measured.
    request_queue_size = 1024


def sleep_stack(n):
    return 'stack { name = "bench" }\n' + "".join(
        f'service "s{i}" {{ cmd = {{ "/bin/sleep", "100000" }} }}\n' for i in range(n))


def measure_probes(ctx, t, figures):
    ok, why = has_http_probes(ctx)
    if not ok:
        t.add("HTTP probes", f"not measured: luvsup has no HTTP health probes yet "
                             f"(`luvsup check` on `health = health.http {{...}}`: "
                             f"{why[0] if why else 'failed'})", "< 5 % of a core", "—")
        return
    n = 50 if ctx.quick else 500
    window = 5 if ctx.quick else 20
    server = ProbeServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    log(f"luvsup alone: {n} services probed over HTTP every second, {window} s")
    try:
        pss = {}
        for label, text in (("without probes", sleep_stack(n)), ("with probes", health_stack(url, n))):
            p = LuvsupStack(ctx, ctx.fresh_dir("probes"))
            try:
                p.launch_text(text)
                procfs.wait_until(lambda: count_comm(p, "sleep") >= n, 120, 0.1)
                time.sleep(3)
                pss[label] = procfs.pss_kib(p.root) or 0
                if label == "with probes":
                    curl_mapped = maps_libcurl(p.root)
                    hits0, c0 = Counter.hits, procfs.cpu_sample([p.root])
                    time.sleep(window)
                    hits1, c1 = Counter.hits, procfs.cpu_sample([p.root])
                    share = (c1[0] - c0[0]) / 1e9 / window * 100
                    rate = (hits1 - hits0) / window
            finally:
                p.stop()
        t.add(f"{n} HTTP probes every 1 s: luvsup CPU", f"{share:.2f} % of a core "
              f"({rate:.0f} requests/s served)", "< 5 % of a core",
              "met" if share < 5 and rate >= 0.9 * n else "missed")
        t.add(f"PSS with {n} HTTP probes vs none",
              f"{pss['with probes'] / 1024:.2f} vs {pss['without probes'] / 1024:.2f} MiB "
              f"(libcurl {'mapped' if curl_mapped else 'not mapped'})",
              "reported separately", "—")
        alone, with_curl = libcurl_pss(ctx)
        t.add("PSS of one service with an https:// probe (libcurl loaded) vs without",
              f"{with_curl / 1024:.2f} vs {alone / 1024:.2f} MiB" if with_curl
              else "not measured: the https:// probe did not load libcurl", "reported separately", "—")
        figures.append(Figure(f"{n} HTTP probes/s", "% of a core", {"luvsup": share},
                              target="< 5 %", verdict="met" if share < 5 else "missed"))
    finally:
        server.shutdown()


def maps_libcurl(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "libcurl" in f.read()
    except OSError:
        return False


def libcurl_pss(ctx):
    """PSS (KiB) of luvsup with one service and no probe, and with one
    https:// probe, which loads libcurl (plain http:// probes do not); the
    second is 0 when libcurl was not loaded within 10 s."""
    pss = []
    for text in (sleep_stack(1), health_stack("https://127.0.0.1:9/health", 1)):
        p = LuvsupStack(ctx, ctx.fresh_dir("probes-https"))
        try:
            p.launch_text(text)
            procfs.wait_until(lambda: count_comm(p, "sleep") >= 1, 10, 0.1)
            if "https" in text and not procfs.wait_until(lambda: maps_libcurl(p.root), 10, 0.1):
                pss.append(0)
                continue
            time.sleep(2)
            pss.append(procfs.pss_kib(p.root) or 0)
        finally:
            p.stop()
    return pss


def reload_stack(n, sf, gen, comment=0):
    lines = [f"-- generation {comment}", 'stack { name = "bench" }']
    for i in range(n):
        g = gen if i == 0 else 0
        lines.append(f'service "s{i}" {{ cmd = {{ {lua_str(sf)} }}, '
                     f'env = {{ GEN = "{g}" }} }}')
    return "\n".join(lines) + "\n"


def measure_reload(ctx, t, figures):
    if not cli_has(ctx, "reload"):
        t.add("reload, one change", "not measured: luvsup has no reload yet "
                                    "(`luvsup reload --help` is not understood)", "< 20 ms", "—")
        t.add("memory after 1000 reloads", "not measured: luvsup has no reload yet", "flat", "—")
        return
    n = 50 if ctx.quick else 200
    reps = 3 if ctx.quick else 10
    extra = ("--no-watch",) if "--no-watch" in run_help(ctx) else ()
    d = ctx.fresh_dir("reload")
    sf = str(d / "stamps")
    stamp_link = d / "svc"
    os.symlink(ctx.bins["stamp"], stamp_link)
    p = LuvsupStack(ctx, d)
    log(f"luvsup alone: reload of {n} services with one change, {reps} times")
    try:
        p.launch_text(reload_stack(n, str(stamp_link), 0), {"STAMP_FILE": sf}, extra)
        procfs.wait_until(lambda: len(read_stamps(sf)) >= n, 120, 0.01)
        lat, err = [], None
        for k in range(1, reps + 1):
            before = len(read_stamps(sf))
            (d / "stack.lua").write_text(reload_stack(n, str(stamp_link), k))
            t0 = time.monotonic_ns()
            r = subprocess.run([ctx.luvsup, "reload"], cwd=d, capture_output=True, text=True)
            if r.returncode != 0:
                err = f"`luvsup reload` exit {r.returncode}: {(r.stdout + r.stderr).strip()[:120]}"
                break
            if not procfs.wait_until(lambda: len(read_stamps(sf)) > before, 10, 0.001):
                err = "the changed service did not restart within 10 s"
                break
            lat.append((read_stamps(sf)[before][0] - t0) / 1e6)
            time.sleep(0.5)
        touched = len(read_stamps(sf)) - n - len(lat)
        if lat:
            p50 = statistics.median(lat)
            t.add(f"reload of {n} services, one changed (`luvsup reload` to the new process)",
                  f"p50 {p50:.1f} ms, max {max(lat):.1f} ms over {len(lat)}; other services "
                  f"restarted: {touched}", "< 20 ms", "met" if p50 < 20 and touched == 0
                  else "missed")
            figures.append(Figure(f"reload, {n} services", "ms", {"luvsup": p50},
                                  target="< 20 ms", verdict="met" if p50 < 20 else "missed"))
        else:
            t.add("reload, one change", f"not measured: {err}", "< 20 ms", "—")
        reps = 100 if ctx.quick else 1000
        if err or not lat:
            t.add(f"memory after {reps} reloads", "not measured: reloads did not apply (above)",
                  "flat", "—")
            return
        log(f"luvsup alone: memory across {reps} reloads")
        uss0, pss0 = procfs.uss_kib(p.root), procfs.pss_kib(p.root)
        for k in range(reps):
            (d / "stack.lua").write_text(reload_stack(n, str(stamp_link), reps + 1, k))
            subprocess.run([ctx.luvsup, "reload"], cwd=d, capture_output=True)
        time.sleep(2)
        uss1, pss1 = procfs.uss_kib(p.root), procfs.pss_kib(p.root)
        if uss0 and uss1:
            t.add(f"memory before and after {reps} reloads (a comment changed each time)",
                  f"USS {uss0} → {uss1} KiB ({uss1 - uss0:+d} KiB); PSS {pss0} → {pss1} KiB",
                  "flat", "met" if uss1 - uss0 < 512 else "missed")
    finally:
        p.stop()


def measure_status(ctx, t, figures):
    if not cli_has(ctx, "status"):
        t.add("status --json", "not measured: luvsup has no status yet "
                               "(`luvsup status --help` is not understood)", "< 10 ms", "—")
        return
    n = 50 if ctx.quick else 500
    runs = 5 if ctx.quick else 20
    p = LuvsupStack(ctx, ctx.fresh_dir("status"))
    log(f"luvsup alone: status --json with {n} services, {runs} runs")
    try:
        p.launch_text(sleep_stack(n))
        procfs.wait_until(lambda: count_comm(p, "sleep") >= n, 120, 0.1)
        time.sleep(1)
        lat, err = [], None
        for _ in range(runs):
            t0 = time.monotonic_ns()
            r = subprocess.run([ctx.luvsup, "status", "--json"], cwd=p.dir, capture_output=True,
                               text=True)
            lat.append((time.monotonic_ns() - t0) / 1e6)
            if r.returncode != 0:
                err = f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[:120]}"
                break
        try:
            doc = json.loads(r.stdout)
            seen = sum(1 for i in range(n) if f'"s{i}"' in r.stdout)
        except ValueError:
            doc, seen = None, 0
        floor = []
        for _ in range(runs):
            t0 = time.monotonic_ns()
            subprocess.run([ctx.luvsup, "--version"], capture_output=True)
            floor.append((time.monotonic_ns() - t0) / 1e6)
        if err or doc is None:
            t.add("status --json", f"not measured: {err or 'output is not JSON'}", "< 10 ms", "—")
            return
        p50 = statistics.median(lat)
        t.add(f"`luvsup status --json`, {n} services (wall time of the command)",
              f"p50 {p50:.1f} ms, max {max(lat):.1f} ms; {seen}/{n} services in the output; "
              f"`luvsup --version` takes {statistics.median(floor):.1f} ms", "< 10 ms",
              "met" if p50 < 10 and seen == n else "missed")
        figures.append(Figure(f"status --json, {n} services", "ms", {"luvsup": p50},
                              reference=("luvsup --version", statistics.median(floor)),
                              target="< 10 ms", verdict="met" if p50 < 10 else "missed"))
    finally:
        p.stop()


def luvsup_alone(ctx):
    t = Table("7. luvsup alone", "Features only luvsup has; each is detected in the binary "
              "first.", ["what", "measured", "target", "verdict"])
    figures = []
    for part in (measure_probes, measure_reload, measure_status):
        try:
            part(ctx, t, figures)
        except Exception as e:  # one broken part must not hide the others' figures
            t.add(part.__name__, f"not measured: the harness failed: {e!r}", "—", "—")
    return [t], figures
