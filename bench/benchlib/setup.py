"""Installing the peers, building the service helpers, describing the machine."""

import os
import platform
import shutil
import subprocess
from pathlib import Path

from . import peers

APT_PACKAGES = {"supervisord": "supervisor", "runsvdir": "runit", "s6-svscan": "s6"}
HERE = Path(__file__).resolve().parent.parent


def log(msg):
    print(f"bench: {msg}", flush=True)


def apt_install(packages):
    # --no-install-recommends: runit recommends runit-run/runit-init, which
    # would put runit in charge of the machine; the bench only needs runsv,
    # runsvdir and svlogd. policy-rc.d or systemd decide whether the
    # supervisor package starts a system supervisord; the bench never uses it.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + packages
    if os.geteuid() != 0:
        cmd = ["sudo"] + cmd
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run((["sudo"] if os.geteuid() else []) + ["apt-get", "update", "-qq"],
                       env=env, capture_output=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return r.returncode == 0, (r.stderr or r.stdout).strip().splitlines()[-1:] or [""]


def ensure_peers(ctx, install=True):
    """Returns {peer name: reason} for the peers that cannot run."""
    missing = {}
    need = [pkg for binary, pkg in APT_PACKAGES.items() if not shutil.which(binary)]
    if need and install:
        log(f"installing {' '.join(need)} (apt-get)")
        ok, why = apt_install(need)
        if not ok:
            log(f"apt-get failed: {why[0]}")
    for binary, pkg in APT_PACKAGES.items():
        if not shutil.which(binary):
            name = {"supervisor": "supervisord", "runit": "runit", "s6": "s6"}[pkg]
            missing[name] = f"not installed: Debian package '{pkg}' could not be installed"
    pm2 = peers.Pm2.bin(ctx)
    if not pm2.exists() and install:
        if not shutil.which("npm"):
            log("installing npm (apt-get)")
            apt_install(["npm"])
        if shutil.which("npm"):
            log(f"installing pm2 into {ctx.npm_prefix} (npm)")
            ctx.npm_prefix.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "install", "--prefix", str(ctx.npm_prefix), "--no-audit",
                            "--no-fund", "pm2"], capture_output=True, text=True, timeout=600)
    if not pm2.exists():
        missing["pm2"] = "not installed: `npm install pm2` failed or npm is missing"
    elif not shutil.which("node"):
        missing["pm2"] = "not runnable: node is missing"
    return missing


def build_helpers(ctx):
    out = ctx.workdir / "bin"
    out.mkdir(parents=True, exist_ok=True)
    bins = {}
    for name in ("stamp", "writer", "spawner"):
        src = HERE / "helpers" / f"{name}.c"
        dst = out / name
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall", "-Wextra", "-o", str(dst),
                            str(src)], check=True)
        bins[name] = str(dst)
    return bins


def machine():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = open("/proc/meminfo").readline().split()[1]
    return {"cores": os.cpu_count(), "kernel": platform.release(), "cpu": model,
            "memory": f"{int(mem) // 1024} MiB"}


def loadavg():
    return open("/proc/loadavg").read().split()[0]
