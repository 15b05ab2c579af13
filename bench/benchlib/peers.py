"""One adapter per supervisor: writes its configuration for a list of
services into a fresh directory, launches it, names its own processes (not
the services'), answers "did it give up?", and tears it down.

Modes (what a workload asks for):
  "default"  every setting at the supervisor's default, logging included;
  "fast"     the minimum restart delay the supervisor allows;
  "log"      the service's stdout to one named file, rotation off.
"""

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from . import procfs


class Svc:
    """A service: a name and an absolute argv."""

    def __init__(self, name, argv, log_file=None):
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file


class Peer:
    name = "?"
    # Bytes a log record adds to each 128-byte line (luvsup's timestamp).
    log_prefix = 0
    log_format = "raw"

    def __init__(self, ctx, run_dir):
        self.ctx = ctx
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.root = None
        self.out = None

    # What the supervisor process and everything under it inherit.
    def env(self, extra):
        env = dict(os.environ)
        env["BENCH_TAG"] = self.ctx.tag
        env.update(extra)
        return env

    def spawn(self, argv, extra_env, cwd=None):
        self.out = open(self.dir / "supervisor.out", "wb")
        self.proc = subprocess.Popen(argv, cwd=cwd or self.dir, env=self.env(extra_env),
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.root = self.proc.pid
        return self.root

    def supervisor_pids(self):
        return [self.root] if self.root and procfs.comm(self.root) else []

    def service_pids(self):
        own = set(self.supervisor_pids())
        return [p for p in procfs.descendants(self.root) if p not in own] if self.root else []

    def log_files(self, svc):
        return [Path(svc.log_file)]

    def gave_up(self, svc):
        return "unknown"

    def graceful_stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self):
        try:
            self.graceful_stop()
            if self.proc:
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            procfs.kill_tagged(self.ctx.tag)
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self.out:
                self.out.close()

    def output(self):
        return procfs.read(self.dir / "supervisor.out") or ""


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Luvsup(Peer):
    name = "luvsup"
    log_prefix = 26  # "YYYY-MM-DDTHH:MM:SS.mmm | "
    log_format = "luvsup records"

    @staticmethod
    def version(ctx):
        return subprocess.run([ctx.luvsup, "--version"], capture_output=True,
                              text=True).stdout.strip()

    def stack_text(self, svcs, mode, extra=""):
        lines = ['local backoff = require "luvsup.backoff"', 'stack { name = "bench" }', extra]
        for s in svcs:
            keys = ["cmd = { " + ", ".join(lua_str(a) for a in s.argv) + " }"]
            if mode == "fast":
                keys.append("restart = backoff.fixed { delay = 0 }")
            if mode == "log":
                keys.append(f"log = {{ file = {lua_str(s.log_file)}, max_size = 0 }}")
            lines.append(f"service {lua_str(s.name)} {{ " + ", ".join(keys) + " }")
        return "\n".join(lines) + "\n"

    def launch(self, svcs, mode, env=None):
        (self.dir / "stack.lua").write_text(self.stack_text(svcs, mode))
        return self.spawn([self.ctx.luvsup, "run", "--quiet", "stack.lua"], env or {})

    def gave_up(self, svc):
        return "yes" if f"{svc.name}: gave up" in self.output() else "no"


class Supervisord(Peer):
    name = "supervisord"

    @staticmethod
    def version(ctx):
        return "supervisord " + subprocess.run(["supervisord", "--version"], capture_output=True,
                                               text=True).stdout.strip()

    def launch(self, svcs, mode, env=None):
        d = self.dir
        (d / "childlogs").mkdir(exist_ok=True)
        conf = [
            "[unix_http_server]", f"file={d}/supervisor.sock", "",
            "[supervisord]", "nodaemon=true", f"logfile={d}/supervisord.log",
            f"pidfile={d}/supervisord.pid", f"childlogdir={d}/childlogs",
            "minfds=8192", "minprocs=2000", "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
            "[supervisorctl]", f"serverurl=unix://{d}/supervisor.sock", "",
        ]
        for s in svcs:
            conf += [f"[program:{s.name}]", "command=" + " ".join(shlex.quote(a) for a in s.argv)]
            if mode == "fast":
                conf.append("autorestart=true")
            if mode == "log":
                conf += [f"stdout_logfile={s.log_file}", "stdout_logfile_maxbytes=0",
                         "stdout_logfile_backups=0", "redirect_stderr=true"]
            conf.append("")
        (d / "supervisord.conf").write_text("\n".join(conf))
        return self.spawn(["supervisord", "-n", "-c", str(d / "supervisord.conf")], env or {})

    def gave_up(self, svc):
        out = subprocess.run(["supervisorctl", "-c", str(self.dir / "supervisord.conf"), "status",
                              svc.name], capture_output=True, text=True).stdout
        return "yes (FATAL)" if "FATAL" in out else "no (" + " ".join(out.split()[1:2]) + ")"


class Pm2(Peer):
    name = "pm2"

    @staticmethod
    def bin(ctx):
        return ctx.npm_prefix / "node_modules" / ".bin" / "pm2"

    @staticmethod
    def version(ctx):
        pkg = ctx.npm_prefix / "node_modules" / "pm2" / "package.json"
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        return f"pm2 {json.loads(pkg.read_text())['version']} (node {node})"

    def pm2_env(self, extra=None):
        e = {"PM2_HOME": str(self.dir / "pm2home")}
        e.update(extra or {})
        return self.env(e)

    def launch(self, svcs, mode, env=None):
        apps = []
        for s in svcs:
            app = {"name": s.name, "script": s.argv[0], "args": s.argv[1:], "interpreter": "none",
                   "exec_mode": "fork", "autorestart": True}
            if mode == "fast":
                app["restart_delay"] = 0
            if mode == "log":
                app.update(out_file=s.log_file, error_file=s.log_file + ".err")
            apps.append(app)
        eco = self.dir / "ecosystem.config.js"
        eco.write_text("module.exports = " + json.dumps({"apps": apps}) + ";\n")
        self.env_extra = env or {}
        self.out = open(self.dir / "supervisor.out", "wb")
        # The CLI starts the daemon (detached, its own session) and exits.
        self.cli = subprocess.Popen([str(self.bin(self.ctx)), "start", str(eco)], cwd=self.dir,
                                    env=self.pm2_env(self.env_extra), stdin=subprocess.DEVNULL,
                                    stdout=self.out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        pidfile = self.dir / "pm2home" / "pm2.pid"
        if not procfs.wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 60):
            raise RuntimeError(f"pm2 wrote no daemon pid to {pidfile} within 60 s")
        self.root = int(pidfile.read_text().strip())
        return self.root

    def wait_cli(self, timeout=300):
        try:
            self.cli.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    def jlist(self):
        out = subprocess.run([str(self.bin(self.ctx)), "jlist"], env=self.pm2_env(),
                             capture_output=True, text=True).stdout
        start = out.find("[")
        return json.loads(out[start:]) if start >= 0 else []

    def gave_up(self, svc):
        for app in self.jlist():
            if app.get("name") == svc.name:
                status = app.get("pm2_env", {}).get("status")
                return "yes (errored)" if status == "errored" else f"no ({status})"
        return "unknown"

    def graceful_stop(self):
        if getattr(self, "cli", None):
            self.wait_cli(30)
            subprocess.run([str(self.bin(self.ctx)), "kill"], env=self.pm2_env(),
                           capture_output=True, timeout=60)

    def stop(self):
        try:
            self.graceful_stop()
        finally:
            procfs.kill_tagged(self.ctx.tag)
            if self.out:
                self.out.close()


def write_exec(path, argv):
    """A run script that execs argv; a bare binary becomes a symlink, so the
    supervisor starts exactly the same program as the others do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(argv) == 1:
        path.symlink_to(argv[0])
    else:
        path.write_text("#!/bin/sh\nexec " + " ".join(shlex.quote(a) for a in argv) + "\n")
        path.chmod(0o755)


class Runit(Peer):
    name = "runit"
    own = ("runsvdir", "runsv", "svlogd")

    @staticmethod
    def version(ctx):
        return "runit " + subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "runit"],
                                         capture_output=True, text=True).stdout

    def launch(self, svcs, mode, env=None):
        sv = self.dir / "sv"
        sv.mkdir(exist_ok=True)
        for s in svcs:
            write_exec(sv / s.name / "run", s.argv)
            if mode == "log":
                logdir = Path(s.log_file).parent
                logdir.mkdir(parents=True, exist_ok=True)
                (logdir / "config").write_text("s0\n")
                write_exec(sv / s.name / "log" / "run", ["/usr/bin/svlogd", str(logdir)])
        return self.spawn(["runsvdir", "-P", str(sv)], env or {})

    def supervisor_pids(self):
        if not self.root or not procfs.comm(self.root):
            return []
        table = procfs.process_table()
        return [self.root] + [p for p in procfs.descendants(self.root, table)
                              if table[p][1] in self.own]

    def log_files(self, svc):
        return [Path(svc.log_file).parent / "current"]

    def gave_up(self, svc):
        out = subprocess.run(["sv", "status", str(self.dir / "sv" / svc.name)],
                             capture_output=True, text=True).stdout
        return "no (sv status: " + out.split(":")[0] + ")" if out else "unknown"

    def graceful_stop(self):
        # SIGHUP: runsvdir sends TERM to every runsv, which stops its service and exits.
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)
            procfs.wait_until(lambda: not procfs.descendants(self.root), 15, 0.05)


class S6(Peer):
    name = "s6"
    own = ("s6-svscan", "s6-supervise", "s6-log")

    @staticmethod
    def version(ctx):
        return "s6 " + subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "s6"],
                                      capture_output=True, text=True).stdout

    def launch(self, svcs, mode, env=None):
        scan = self.dir / "scan"
        scan.mkdir(exist_ok=True)
        for s in svcs:
            write_exec(scan / s.name / "run", s.argv)
            if mode == "log":
                logdir = Path(s.log_file).parent
                logdir.mkdir(parents=True, exist_ok=True)
                # s6-log always rotates; the largest size it takes keeps the
                # whole run in few files, and every archive is counted.
                write_exec(scan / s.name / "log" / "run",
                           ["/usr/bin/s6-log", "-b", "n1000", "s1000000000", str(logdir)])
        return self.spawn(["s6-svscan", str(scan)], env or {})

    supervisor_pids = Runit.supervisor_pids

    def log_files(self, svc):
        logdir = Path(svc.log_file).parent
        archives = sorted(p for p in logdir.glob("@*") if p.suffix in (".s", ".u"))
        return archives + [logdir / "current"]

    def gave_up(self, svc):
        out = subprocess.run(["s6-svstat", str(self.dir / "scan" / svc.name)],
                             capture_output=True, text=True).stdout
        return "no (s6-svstat: " + out.split()[0] + ")" if out else "unknown"

    def graceful_stop(self):
        if self.proc and self.proc.poll() is None:
            subprocess.run(["s6-svscanctl", "-t", str(self.dir / "scan")], capture_output=True)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass


ALL = [Luvsup, Supervisord, Pm2, Runit, S6]
