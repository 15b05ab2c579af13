"""Helpers for integration tests: a temp directory per test, the real luvsup
binary on real processes, and waits that poll with deadlines (never bare
sleeps)."""
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LUVSUP_BUILD", os.path.join(ROOT, "build"))
LUVSUP = os.path.join(BUILD, "luvsup")
HELPERS = os.path.join(BUILD, "helpers")

# Generous: CI runs on 2 busy cores. A deadline only bounds a failure.
DEFAULT_TIMEOUT = 20


class TestFailure(AssertionError):
    pass


def wait_until(predicate, timeout=DEFAULT_TIMEOUT, what="condition", interval=0.02):
    """Polls predicate until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TestFailure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack_hash(stack_path):
    """The stack's tag prefix, as luvsup computes it (FNV-1a 64 of the real path)."""
    h = 14695981039346656037
    for byte in os.path.realpath(stack_path).encode():
        h ^= byte
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"[:12]


def process_environ(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def process_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def pid_alive(pid):
    state = process_state(pid)
    return state is not None and state != "Z"


def tagged_pids(stack_path, service=None):
    """Live processes carrying the stack's LUVSUP_SERVICE tag (optionally one service's)."""
    prefix = f"LUVSUP_SERVICE={stack_hash(stack_path)}/".encode()
    want = prefix + service.encode() if service else None
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        for var in process_environ(pid):
            if (want is not None and var == want) or (want is None and var.startswith(prefix)):
                if pid_alive(pid):
                    found.append(pid)
                break
    return found


def remove_cgroup(path):
    """Removes an empty cgroup. The kernel refuses (EBUSY) while the tasks that
    left cgroup.procs are still exiting, so this retries until they are gone."""
    def removed():
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            if e.errno != errno.EBUSY:
                raise
            return False
        return True

    wait_until(removed, timeout=10, what=f"cgroup {path} to be removable")


def remove_stack_cgroups(stack_path):
    """Kills and removes the per-service cgroups a stack's luvsup may have left."""
    base = f"/sys/fs/cgroup/unified/luvsup-{stack_hash(stack_path)}"
    for root in (base, f"/sys/fs/cgroup/luvsup-{stack_hash(stack_path)}"):
        if not os.path.isdir(root):
            continue
        for name in os.listdir(root):
            sub = os.path.join(root, name)
            if os.path.isdir(sub):
                try:
                    with open(os.path.join(sub, "cgroup.kill"), "w") as f:
                        f.write("1")
                except OSError:
                    pass
                wait_until(lambda: not open(os.path.join(sub, "cgroup.procs")).read().strip(),
                           timeout=10, what=f"cgroup {sub} to empty")
                remove_cgroup(sub)
        remove_cgroup(root)


RECORD = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) (?:(out|err) )?([|+%!]) (.*)$", re.S)


def parse_records(data):
    """Splits a service log into (timestamp, stream, mark, payload) records."""
    records = []
    for line in data.split(b"\n")[:-1]:
        m = RECORD.match(line)
        if not m:
            raise TestFailure(f"malformed log record: {line[:120]!r}")
        records.append((m.group(1), m.group(2), m.group(3), m.group(4)))
    return records


def reassemble(records, stream=None):
    """The original bytes of a stream from its log records."""
    out = bytearray()
    for _, rstream, mark, payload in records:
        if mark == b"!" or (stream is not None and rstream != stream):
            continue
        out += payload
        if mark == b"|":
            out += b"\n"
    return bytes(out)


class Luvsup:
    """One `luvsup` process started by a test."""

    def __init__(self, tdir, args, env=None, stdin=subprocess.DEVNULL, preexec_fn=None):
        self.tdir = tdir
        self.stderr_path = os.path.join(tdir.path, f"luvsup-{len(tdir.runs)}.stderr")
        self.stdout_path = os.path.join(tdir.path, f"luvsup-{len(tdir.runs)}.stdout")
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([LUVSUP] + list(args), cwd=tdir.path, stdin=stdin,
                                     stdout=self._out, stderr=self._err, env=full_env,
                                     preexec_fn=preexec_fn)
        tdir.runs.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT, count=1):
        """Waits until luvsup's own log matches `pattern` `count` times; returns the matches."""
        regex = re.compile(pattern)

        def found():
            matches = list(regex.finditer(self.log()))
            if len(matches) >= count:
                return matches
            if self.proc.poll() is not None:
                matches = list(regex.finditer(self.log()))
                if len(matches) >= count:
                    return matches
                raise TestFailure(f"luvsup exited ({self.proc.returncode}) before logging {pattern!r}")
            return None

        return wait_until(found, timeout, f"log line {pattern!r} x{count}")

    def count(self, pattern):
        return len(re.findall(pattern, self.log()))

    def send(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=DEFAULT_TIMEOUT * 2):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"luvsup did not exit within {timeout}s")

    def stop(self, sig=signal.SIGTERM, timeout=DEFAULT_TIMEOUT * 2):
        """Asks luvsup to stop the stack; returns its exit code."""
        self.send(sig)
        return self.wait(timeout)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._err.close()
        self._out.close()


class TestDir:
    """A temp directory for one test; kills whatever the test left running."""

    def __init__(self, name):
        self.name = name
        self.path = tempfile.mkdtemp(prefix="luvsup-it-")
        self.runs = []
        self.stacks = set()
        self.keep = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for run in self.runs:
            run.close()
        for stack in self.stacks:
            for pid in tagged_pids(stack):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            remove_stack_cgroups(stack)
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)
        return False

    def file(self, relpath):
        return os.path.join(self.path, relpath)

    def write(self, relpath, text, mode=0o644):
        path = self.file(relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def read(self, relpath, binary=False):
        with open(self.file(relpath), "rb" if binary else "r") as f:
            return f.read()

    def exists(self, relpath):
        return os.path.exists(self.file(relpath))

    def stack(self, text, name="stack.lua"):
        path = self.write(name, text)
        self.stacks.add(path)
        return path

    def run(self, *args, stack="stack.lua", env=None, **kw):
        """Starts `luvsup run` on a stack file of this directory."""
        self.stacks.add(self.file(stack))
        return Luvsup(self, ["run", "--log-level", "debug", *args, stack], env=env, **kw)

    def check(self, stack="stack.lua", *args):
        """Runs `luvsup check`; returns (exit code, stdout, stderr)."""
        proc = subprocess.run([LUVSUP, "check", *args, stack], cwd=self.path, capture_output=True,
                              text=True, timeout=DEFAULT_TIMEOUT)
        return proc.returncode, proc.stdout, proc.stderr

    def reachable_by_all(self, executable):
        """A copy of `executable` that any user may run: the build directory
        can sit in a private one (a fresh clone in `mktemp -d` does)."""
        os.chmod(self.path, 0o755)
        bindir = self.file("bin")
        os.makedirs(bindir, exist_ok=True)
        os.chmod(bindir, 0o755)
        copy = os.path.join(bindir, os.path.basename(executable))
        shutil.copy2(executable, copy)
        os.chmod(copy, 0o755)
        return copy

    def service_log(self, service):
        path = self.file(f"logs/{service}.log")
        if not os.path.exists(path):
            return b""
        with open(path, "rb") as f:
            return f.read()

    def wait_file(self, relpath, predicate=lambda text: True, timeout=DEFAULT_TIMEOUT):
        def ready():
            if not self.exists(relpath):
                return None
            text = self.read(relpath)
            return (text,) if predicate(text) else None  # a tuple: an empty file is still "there"

        return wait_until(ready, timeout, f"file {relpath}")[0]

    def dump(self):
        for i, run in enumerate(self.runs):
            print(f"--- luvsup run {i} stderr (exit {run.proc.poll()}) ---")
            print(run.log()[-6000:])
        logs = self.file("logs")
        if os.path.isdir(logs):
            for name in sorted(os.listdir(logs)):
                with open(os.path.join(logs, name), "rb") as f:
                    data = f.read()
                print(f"--- logs/{name} ({len(data)} bytes) ---")
                print(data[-2000:].decode(errors="replace"))
        print(f"(test directory kept: {self.path})")


def lines_in_order(log, *patterns):
    """Whether each pattern is in the log, in the order given."""
    at = []
    for p in patterns:
        m = re.search(p, log)
        check(m is not None, f"{p!r} in the log")
        at.append(m.start())
    return at == sorted(at)


def check(condition, message):
    if not condition:
        raise TestFailure(message)
