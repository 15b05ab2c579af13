#!/usr/bin/env python3
"""Runs one integration test, `module:function`, in its own temp directory."""
import faulthandler
import importlib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def main():
    # A hung test shows where it hangs before the runner's timeout kills it.
    faulthandler.dump_traceback_later(float(os.environ.get("LUVSUP_TEST_DUMP_AFTER", "170")), exit=True)
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
