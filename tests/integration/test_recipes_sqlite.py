"""The SQLite maintenance recipe on the real sqlite3 program: its checkpoint,
integrity check and dated backups (keeping the newest) run as scheduled tasks
against a database in WAL mode, and a corrupt database is reported."""
import os
import shutil
import sqlite3

from harness import check, wait_until


def skip(why):
    print(f"SKIP: {why}")


def make_db(t, name="data/app.db", rows=100):
    os.makedirs(os.path.dirname(t.file(name)), exist_ok=True)
    db = sqlite3.connect(t.file(name))
    db.execute("pragma journal_mode=wal")
    db.execute("create table notes (id integer primary key, text text)")
    db.executemany("insert into notes (text) values (?)", [(f"note {i}",) for i in range(rows)])
    db.commit()
    return db  # kept open: the WAL stays until a checkpoint truncates it


def stack(t, options, declare):
    t.stack(f'''
local sqlite = require "recipes.sqlite"
local db = sqlite {{ {options} }}
{declare}
service "idle" {{ cmd = {{ "sleep", "1000" }} }}
''')


def test_sqlite_recipe_checkpoints_the_wal_on_schedule(t):
    if not shutil.which("sqlite3"):
        return skip("sqlite3 is not installed (make test-deps installs the sqlite3 package)")
    db = make_db(t)
    check(os.path.getsize(t.file("data/app.db-wal")) > 0, "the writes sit in the WAL")
    stack(t, 'db = "data/app.db", checkpoint = "1s"', 'task "checkpoint" (db.checkpoint)')
    run = t.run()
    run.wait_log(r"sqlite: checkpointed data/app\.db \(0\|")
    wait_until(lambda: os.path.getsize(t.file("data/app.db-wal")) == 0, what="the WAL truncated")
    db.close()
    check(run.stop() == 0, "clean shutdown")


def test_sqlite_recipe_backs_up_into_dated_files_and_keeps_the_newest(t):
    if not shutil.which("sqlite3"):
        return skip("sqlite3 is not installed (make test-deps installs the sqlite3 package)")
    make_db(t).close()
    os.makedirs(t.file("backups"))
    for old in ("app-20200101-000000.db", "app-20200102-000000.db", "app-20200103-000000.db"):
        t.write(f"backups/{old}", "old")
    t.write("backups/other.txt", "not a backup")
    stack(t, 'db = "data/app.db", backup = "1s", keep = 2', 'task "backup" (db.backup)')
    run = t.run()
    run.wait_log(r"sqlite: backed up data/app\.db to .*/backups/app-\d{8}-\d{6}\.db", count=2)
    run.wait_log(r"sqlite: removed the old backup .*app-20200103-000000\.db")
    check(run.stop() == 0, "clean shutdown")
    names = sorted(os.listdir(t.file("backups")))
    backups = [n for n in names if n.startswith("app-")]
    check(len(backups) == 2 and not any(n.startswith("app-2020") for n in backups),
          f"the two newest backups are kept: {names}")
    check("other.txt" in names, "other files are left alone")
    copy = sqlite3.connect(t.file(f"backups/{backups[-1]}"))
    check(copy.execute("select count(*) from notes").fetchone()[0] == 100, "the backup holds the data")
    copy.close()


def test_sqlite_recipe_reports_a_failed_integrity_check(t):
    if not shutil.which("sqlite3"):
        return skip("sqlite3 is not installed (make test-deps installs the sqlite3 package)")
    make_db(t).close()
    t.write("data/broken.db", "this is not a database" * 100)
    stack(t, 'db = "data/app.db", integrity = "1s"', 'task "good" (db.integrity)\n'
             'task "bad" (sqlite { db = "data/broken.db", integrity = "1s" }.integrity)')
    run = t.run()
    run.wait_log(r"sqlite: integrity check of data/app\.db: ok")
    run.wait_log(r"sqlite: integrity check of data/broken\.db failed: .*not a database")
    check(run.stop() == 0, "clean shutdown")
