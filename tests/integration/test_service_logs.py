"""Service logs: exact bytes, rotation, a held-back writer without loss and
without a blocked loop, a full disk reported with a dropped-bytes marker."""
import contextlib
import os
import random
import subprocess

from harness import check, parse_records, reassemble, tagged_pids, wait_until

WRITER = '''
import os, sys
data = open(sys.argv[1], "rb").read()
out = sys.stdout.buffer
for i in range(0, len(data), 4096):
    out.write(data[i:i + 4096])
    out.flush()
open(sys.argv[1] + ".done", "w").close()
import signal
signal.pause() if len(sys.argv) > 2 else None
'''


@contextlib.contextmanager
def nearly_full_tmpfs(t, free_kib=16):
    """logs/ on a 256 KiB tmpfs with only `free_kib` free (the filler file takes the rest)."""
    os.makedirs(t.file("logs"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", t.file("logs")], check=True)
    try:
        t.write("logs/filler", b"\0" * ((256 - free_kib) * 1024))
        yield
    finally:
        subprocess.run(["umount", "-l", t.file("logs")])


def edge_case_payload():
    rng = random.Random(42)
    parts = [
        b"plain line\n",
        b"nul \x00 byte\x00\n",
        b"invalid utf-8 \xff\xfe\xc3\x28\n",
        b"crlf line\r\n",
        b"\n",
        b"x" * (64 * 1024) + b"\n",          # exactly the maximum: one record
        b"y" * (64 * 1024 + 1) + b"\n",      # one byte over: split with a continuation
        b"z" * (200 * 1024) + b"\n",         # several pieces
        bytes(rng.getrandbits(8) for _ in range(300_000)),
        b"\nunterminated tail",              # no newline at exit
    ]
    return b"".join(parts)


def test_log_holds_exactly_the_bytes_written(t):
    payload = edge_case_payload()
    t.write("payload.bin", payload)
    t.write("writer.py", WRITER)
    t.stack('''
service "bytes" { cmd = { "python3", "writer.py", "payload.bin" }, oneshot = true,
                  log = { max_size = 0 } }
''')
    run = t.run()
    run.wait_log(r"bytes: completed")
    check(run.stop() == 0, "clean")
    records = parse_records(t.service_log("bytes"))
    check(reassemble(records) == payload, "the log reassembles to the exact bytes written")
    marks = [r[2] for r in records]
    check(marks[-1] == b"%", "the unterminated tail is marked %")
    check(b"+" in marks, "long lines are split with +")
    check(all(len(r[3]) <= 64 * 1024 for r in records), "no record over the maximum line length")


def test_separated_stderr_is_tagged(t):
    t.stack('''
service "both" { cmd = "echo to-out; echo to-err >&2; echo more-out", oneshot = true,
                 log = { stderr = true } }
''')
    run = t.run()
    run.wait_log(r"both: completed")
    run.stop()
    records = parse_records(t.service_log("both"))
    check(reassemble(records, b"out") == b"to-out\nmore-out\n", f"stdout: {records}")
    check(reassemble(records, b"err") == b"to-err\n", f"stderr: {records}")


def test_rotation_keeps_every_line_whole(t):
    t.stack('''
service "chatty" {
  cmd = [[i=0; while [ $i -lt 3000 ]; do echo "line $i abcdefghijklmnopqrstuvwxyz0123456789"; i=$((i+1)); done]],
  oneshot = true,
  log = { max_size = "20KB", keep = 3 },
}
''')
    run = t.run()
    run.wait_log(r"chatty: completed")
    run.stop()
    names = sorted(n for n in os.listdir(t.file("logs")) if n.startswith("chatty.log"))
    check(names == ["chatty.log", "chatty.log.1", "chatty.log.2", "chatty.log.3"], f"files {names}")
    seen = []
    for name in ["chatty.log.3", "chatty.log.2", "chatty.log.1", "chatty.log"]:
        data = open(t.file(f"logs/{name}"), "rb").read()
        check(len(data) <= 20 * 1024, f"{name} within max_size: {len(data)}")
        for rec in parse_records(data):
            check(rec[2] == b"|", "whole lines only")
            seen.append(int(rec[3].split()[1]))
    check(seen == sorted(seen) and seen[-1] == 2999, "in order, ending with the last line")
    check(seen == list(range(seen[0], 3000)), "no line lost within the kept files")


def test_held_back_writer_loses_nothing_and_does_not_block_the_loop(t):
    # The log file is a FIFO whose reader is stopped: writes stall like a hung disk.
    os.makedirs(t.file("logs"))
    os.mkfifo(t.file("logs/slow.log"))
    sink = open(t.file("sink.bin"), "wb")
    reader = subprocess.Popen(["cat", t.file("logs/slow.log")], stdout=sink)
    payload = b"".join(b"%08d %s\n" % (i, b"q" * 100) for i in range(40000))  # ~4.3 MB
    t.write("payload.bin", payload)
    t.write("writer.py", WRITER)
    t.stack('''
local backoff = require "luvsup.backoff"
service "slow" { cmd = { "python3", "writer.py", "payload.bin", "pause" },
                 log = { max_size = 0, stall_timeout = 600 } }
service "crasher" { cmd = "exit 1", restart = backoff.fixed { delay = 0.1 } }
''')
    try:
        reader.send_signal(19)  # SIGSTOP: the "disk" stops accepting writes
        run = t.run()
        run.wait_log(r"slow: started")
        # The writer blocks on its own full pipe instead of luvsup buffering it all.
        wait_until(lambda: os.path.exists(t.file("logs")), what="logs dir")
        # Meanwhile the loop keeps supervising: the crasher is restarted many times.
        before = run.count(r"crasher: started")
        run.wait_log(r"crasher: started", count=before + 5)
        check(not os.path.exists(t.file("payload.bin.done")), "the writer is held back, not buffered without bound")
        reader.send_signal(18)  # SIGCONT
        t.wait_file("payload.bin.done", timeout=60)
        check(run.stop() == 0, "clean")
        reader.wait(timeout=30)
    finally:
        if reader.poll() is None:
            reader.send_signal(18)
            reader.kill()
        sink.close()
    got = open(t.file("sink.bin"), "rb").read()
    records = parse_records(got)
    check(reassemble(records) == payload, f"every byte arrived ({len(got)} bytes of records)")
    check(b"dropped" not in got, "nothing dropped")


def test_full_disk_is_reported_with_a_dropped_bytes_marker(t):
    if os.geteuid() != 0:
        return  # mounting a small tmpfs needs root
    with nearly_full_tmpfs(t):
        t.stack('''
service "talker" {
  cmd = [[i=0; while :; do echo "message $i"; i=$((i+1)); sleep 0.002; done]],
  log = { max_size = 0, stall_timeout = 1 },
}
service "other" { cmd = "exit 1", restart = require("luvsup.backoff").fixed { delay = 0.1 } }
''')
        run = t.run()
        run.wait_log(r"talker: log write failed: .*No space left on device; holding output for up to 1 s")
        run.wait_log(r"talker: log write failed: .*No space left on device; output is dropped")
        # The supervisor keeps serving while the disk is full.
        n = run.count(r"other: started")
        run.wait_log(r"other: started", count=n + 3)
        os.unlink(t.file("logs/filler"))
        run.wait_log(r"talker: log writing recovered; \d+ bytes dropped")
        wait_until(lambda: b"bytes dropped" in t.service_log("talker"), what="the marker in the log")
        check(run.stop() == 0, "clean")
        records = parse_records(t.service_log("talker"))
        markers = [r for r in records if r[2] == b"!"]
        check(markers and markers[0][3].startswith(b"luvsup: ") and b"bytes dropped" in markers[0][3],
              f"marker record: {markers[:1]}")
    check(tagged_pids(t.file("stack.lua")) == [], "nothing left")


def test_a_log_write_stuck_forever_does_not_hang_the_shutdown(t):
    # A FIFO nobody ever opens for reading: opening it for writing never returns.
    os.makedirs(t.file("logs"))
    os.mkfifo(t.file("logs/stuck.log"))
    t.stack('''
stack { defaults = { log = { stall_timeout = 1 } } }
service "stuck" { cmd = "echo hello; exec sleep 1000" }
service "fine" { cmd = "echo fine; exec sleep 1000" }
''')
    run = t.run()
    run.wait_log(r"stuck: started")
    wait_until(lambda: b"fine" in t.service_log("fine"), what="the other service's log")
    rc = run.stop(timeout=30)
    check(rc == 1, f"a shutdown that could not write every log is not clean, got {rc}")
    check("service logs still not written after" in run.log(), "the stuck disk is reported")
    check(tagged_pids(t.file("stack.lua")) == [], "every service stopped")


def test_a_brief_full_disk_loses_nothing(t):
    if os.geteuid() != 0:
        return  # mounting a small tmpfs needs root
    with nearly_full_tmpfs(t):
        t.stack('''
service "talker" {
  cmd = [[i=0; while [ $i -lt 2000 ]; do echo "message $i"; i=$((i+1)); done; touch done.txt; exec sleep 1000]],
  log = { max_size = 0, stall_timeout = 60 },
}
''')
        run = t.run()
        run.wait_log(r"talker: log write failed: .*No space left on device; holding output")
        os.unlink(t.file("logs/filler"))
        t.wait_file("done.txt")
        wait_until(lambda: b"message 1999\n" in t.service_log("talker"), what="every line in the log")
        check(run.stop() == 0, "clean")
        got = reassemble(parse_records(t.service_log("talker")))
        want = b"".join(b"message %d\n" % i for i in range(2000))
        check(got == want, "every line, in order, nothing dropped")
        check("dropped" not in run.log(), "nothing dropped")
