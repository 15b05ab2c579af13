"""Recipes run the real program: it starts, serves, survives a kill, stops."""
import os
import signal
import urllib.request

from harness import check, free_port, tagged_pids, wait_until


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read()
    except OSError:
        return None


def test_static_files_recipe_serves_survives_a_kill_and_stops(t):
    port = free_port()
    t.write("public/hello.txt", "hello from luvsup\n")
    t.stack(f'''
local static_files = require "recipes.static_files"
local backoff = require "luvsup.backoff"
local files = static_files {{ port = {port}, dir = "public" }}
files.restart = backoff.fixed {{ delay = 0 }}
service "files" (files)
''')
    run = t.run()
    url = f"http://127.0.0.1:{port}/hello.txt"
    check(wait_until(lambda: fetch(url), what="the file server") == b"hello from luvsup\n", "served")
    stack = t.file("stack.lua")
    first = tagged_pids(stack, "files")
    os.kill(first[0], signal.SIGKILL)
    run.wait_log(r"files: started", count=2)
    check(wait_until(lambda: fetch(url), what="the file server after a kill") == b"hello from luvsup\n",
          "served again")
    check(run.stop() == 0, "stops cleanly on its INT stop signal")
    check(tagged_pids(stack) == [], "nothing left")
