#!/usr/bin/env python3
"""Runs every luvsup test: the doctest unit tests, then the integration tests
(tests/integration/test_*.py) against the real binary, several at a time.
Ends with one line: "N passed, N failed"."""
import argparse
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_unit(build):
    binary = os.path.join(ROOT, build, "unit_tests")
    proc = subprocess.run([binary, "--no-intro"], cwd=ROOT, capture_output=True, text=True,
                          errors="replace")
    out = proc.stdout + proc.stderr
    m = re.search(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed", out)
    if not m:
        print(out)
        print("unit tests: could not read the doctest summary")
        return 0, 1
    passed, failed = int(m.group(2)), int(m.group(3))
    if failed or proc.returncode != 0:
        print(out)
        failed = max(failed, 1)
    print(f"unit tests: {passed} passed, {failed} failed")
    return passed, failed


def discover(pattern):
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    names = []
    for fname in sorted(os.listdir(os.path.join(ROOT, "tests", "integration"))):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        module = fname[:-3]
        with open(os.path.join(ROOT, "tests", "integration", fname)) as f:
            for line in f:
                m = re.match(r"def (test_\w+)\(", line)
                if m and (not pattern or re.search(pattern, f"{module}:{m.group(1)}")):
                    names.append(f"{module}:{m.group(1)}")
    return names


def run_one(build, name, timeout):
    start = time.monotonic()
    env = dict(os.environ, LUVSUP_BUILD=os.path.join(ROOT, build),
               LUVSUP_TEST_TIME_LIMIT=str(max(10, timeout - 20)))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "integration", "run_one.py"), name],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        ok = proc.returncode == 0
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the test and anything it started in its group
        out, _ = proc.communicate()
        ok = False
        out = f"timed out after {timeout}s\n".encode() + (out or b"")
    out = out.decode(errors="replace")
    return name, ok, out, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("LUVSUP_TEST_JOBS", "4")))
    parser.add_argument("--only", help="regex on module:test for integration tests")
    parser.add_argument("--no-unit", action="store_true")
    parser.add_argument("--timeout", type=int, default=180)
    args = parser.parse_args()

    passed = failed = 0
    if not args.no_unit:
        passed, failed = run_unit(args.build)
    names = discover(args.only)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, ok, out, secs in pool.map(lambda n: run_one(args.build, n, args.timeout), names):
            if ok:
                passed += 1
                print(f"PASS {name} ({secs:.1f}s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {name} ({secs:.1f}s)\n{out}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
