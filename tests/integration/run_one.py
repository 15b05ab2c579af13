#!/usr/bin/env python3
"""Runs one integration test, `module:function`, in its own temp directory."""
import faulthandler
import importlib
import os
import signal
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def on_time_limit(signum, frame):
    raise harness.TestFailure("the test ran past its time limit")


def main():
    # A hung test fails with its traceback before the runner's timeout, so
    # its cleanup still kills what it started; the dump is a last resort.
    limit = int(os.environ.get("LUVSUP_TEST_TIME_LIMIT", "160"))
    signal.signal(signal.SIGALRM, on_time_limit)
    signal.alarm(limit)
    faulthandler.dump_traceback_later(limit + 10, exit=True)
    module_name, func_name = sys.argv[1].split(":")
    module = importlib.import_module(module_name)
    with harness.TestDir(sys.argv[1]) as tdir:
        try:
            getattr(module, func_name)(tdir)
        except Exception:
            traceback.print_exc()
            tdir.dump()
            tdir.keep = True
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
