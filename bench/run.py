#!/usr/bin/env python3
"""luvsup side by side with supervisord, PM2, runit and s6 (issue 7).

    make bench               # full run, under 15 minutes on 2 cores
    make bench ARGS=--quick  # one to two minutes, for development

Installs the peers when missing, runs workloads 1-7 (see bench/README.md),
prints one table per workload and a summary, and writes bench/RESULTS.md.
Only processes this run started are ever killed: each carries a per-run tag
in its environment (BENCH_TAG), and teardown looks for that tag.
"""

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import peers, procfs, setup, workloads, workloads_io, luvsup_only  # noqa: E402
from benchlib.results import Table, summary_markdown  # noqa: E402

HERE = Path(__file__).resolve().parent

WORKLOADS = {
    "memory": workloads.idle_memory,
    "cpu": workloads.idle_cpu,
    "restart": workloads.restart_latency,
    "crash": workloads.crash_loop,
    "log": workloads_io.log_throughput,
    "cold": workloads_io.cold_start,
    "luvsup": luvsup_only.luvsup_alone,
}


class Context:
    def __init__(self, args):
        self.quick = args.quick
        self.workdir = Path(args.workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.npm_prefix = self.workdir / "npm"
        self.luvsup = str(Path(args.luvsup).resolve())
        self.tag = uuid.uuid4().hex
        self.tmp = Path(tempfile.mkdtemp(prefix="run-", dir=self.workdir))
        self.count = 0
        self.peers = []
        self.unavailable = {}
        self.bins = {}

    def fresh_dir(self, label):
        self.count += 1
        d = self.tmp / f"{self.count:03d}-{label}"
        d.mkdir(parents=True)
        return d


def versions(ctx):
    out = {}
    for cls in peers.ALL:
        if cls.name in ctx.unavailable:
            out[cls.name] = ctx.unavailable[cls.name]
            continue
        try:
            out[cls.name] = cls.version(ctx)
        except Exception as e:  # a version we cannot read is reported, not fatal
            out[cls.name] = f"unknown ({e})"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer services, shorter windows, 32 MiB log")
    ap.add_argument("--luvsup", default=str(HERE.parent / "build" / "luvsup"))
    ap.add_argument("--workdir", default=str(HERE / "work"),
                    help="pm2 prefix, helper binaries and per-run temp dirs (default bench/work)")
    ap.add_argument("--only", default="", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--peers", default="", help="comma-separated subset of "
                    + ",".join(c.name for c in peers.ALL))
    ap.add_argument("--no-install", action="store_true", help="do not install missing peers")
    ap.add_argument("--keep", action="store_true", help="keep the run's temp dir")
    ap.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = ap.parse_args()

    unknown = [w for w in args.only.split(",") if w and w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    if not os.access(args.luvsup, os.X_OK):
        sys.exit(f"bench: no luvsup binary at {args.luvsup}; run `make all` first")
    ctx = Context(args)
    started = time.monotonic()
    load_start = setup.loadavg()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    ctx.unavailable = setup.ensure_peers(ctx, install=not args.no_install)
    wanted = set(filter(None, args.peers.split(",")))
    ctx.peers = [c for c in peers.ALL if c.name not in ctx.unavailable
                 and (not wanted or c.name in wanted or c.name == "luvsup")]
    for c in peers.ALL:
        if wanted and c.name not in wanted and c.name != "luvsup":
            ctx.unavailable.pop(c.name, None)
    ctx.bins = setup.build_helpers(ctx)
    vers = versions(ctx)
    only = [w for w in args.only.split(",") if w] or list(WORKLOADS)
    tables, figures = [], []
    try:
        for name in only:
            t_start = time.monotonic()
            try:
                t, f = WORKLOADS[name](ctx)
            except Exception as e:  # one broken workload must not lose the others' figures
                procfs.kill_tagged(ctx.tag)
                failed = Table(f"{name}: not measured", f"The harness failed: {e!r}", ["—"])
                t, f = [failed], []
                setup.log(f"{name}: FAILED: {e!r}")
            setup.log(f"{name}: done in {time.monotonic() - t_start:.0f} s")
            tables += t
            figures += f
    finally:
        procfs.kill_tagged(ctx.tag)
        if not args.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    load_end = setup.loadavg()
    m = setup.machine()
    elapsed = time.monotonic() - started
    names = [c.name for c in peers.ALL if c.name in [p.name for p in ctx.peers]
             or c.name in ctx.unavailable]
    head = [
        "# luvsup benchmark results", "",
        f"- date: {when}; mode: {'quick' if ctx.quick else 'full'}; duration {elapsed:.0f} s",
        f"- machine: {m['cores']} cores, {m['cpu']}, kernel {m['kernel']}, {m['memory']} RAM",
        f"- 1-minute load average: {load_start} at start, {load_end} at end"
        + (" (the machine was loaded by other work: figures are disturbed)"
           if max(float(load_start), float(load_end)) > 0.5 * m["cores"] else ""),
        "- versions: " + "; ".join(f"{k}: {v}" for k, v in vers.items()),
        "- reproduce: `make bench` (or `make bench ARGS=--quick`); see bench/README.md", "",
    ]
    text = "\n".join(head) + "\n" + summary_markdown(figures, names) + "\n## Workloads\n\n" + \
        "\n".join(t.markdown() for t in tables)
    print("\n" + text)
    Path(args.results).write_text(text)
    print(f"bench: wrote {args.results}")


if __name__ == "__main__":
    main()
