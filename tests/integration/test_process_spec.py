"""The full process spec reaches the child: argv, env, env_file, cwd, user,
group, umask, limits, stdin; and the child's session is its own."""
import os
import resource

from harness import check, wait_until


def run_probe(t, body, outfile="out.txt"):
    t.stack(body)
    run = t.run()
    text = t.wait_file(outfile, lambda s: s.endswith("END\n"))
    run.stop()
    return text


def test_env_env_file_cwd_and_stdin(t):
    t.write("app/.env", '# comment\nexport FROM_FILE="file value"\nOVERRIDDEN=from-file\nQUOTED=\'single # not a comment\'\n')
    t.write("input.txt", "hello from stdin\n")
    os.makedirs(t.file("app/work"))
    text = run_probe(t, '''
service "probe" {
  cmd = [[{ echo "FROM_FILE=$FROM_FILE"; echo "OVERRIDDEN=$OVERRIDDEN"; echo "QUOTED=$QUOTED";
           echo "PWD=$(pwd)"; echo "STDIN=$(cat)"; echo "TAG=$LUVSUP_SERVICE"; echo "NOTIFY=${NOTIFY_SOCKET-unset}";
           echo END; } > ../../out.txt; exec sleep 1000]],
  cwd = "app/work",
  env_file = "app/.env",
  env = { OVERRIDDEN = "from-env" },
  stdin = "input.txt",
  oneshot = false,
}
''')
    check("FROM_FILE=file value" in text, text)
    check("OVERRIDDEN=from-env" in text, text)
    check("QUOTED=single # not a comment" in text, text)
    check(f"PWD={os.path.realpath(t.file('app/work'))}" in text, text)
    check("STDIN=hello from stdin" in text, text)
    check("TAG=" in text and "/probe" in text, text)
    check("NOTIFY=unset" in text, "NOTIFY_SOCKET is not inherited")


def test_stdin_defaults_to_dev_null_and_session_is_own(t):
    text = run_probe(t, '''
service "probe" {
  cmd = [[{ echo "STDIN=$(readlink /proc/self/fd/0)"; echo "SID=$(ps -o sid= -p $$ | tr -d ' ') PID=$$"; echo END; } > out.txt; exec sleep 1000]],
}
''')
    check("STDIN=/dev/null" in text, text)
    sid = text.split("SID=")[1].split()[0]
    pid = text.split("PID=")[1].split()[0]
    check(sid == pid, f"the service leads its own session: {text}")


def test_umask_and_limits(t):
    text = run_probe(t, '''
service "probe" {
  cmd = [[{ echo "UMASK=$(umask)"; echo "NOFILE=$(ulimit -Sn)/$(ulimit -Hn)"; echo "CORE=$(ulimit -Sc)"; echo END; } > out.txt; exec sleep 1000]],
  umask = "027",
  limits = { nofile = { 512, 1024 }, core = 0 },
}
''')
    check("UMASK=0027" in text, text)
    check("NOFILE=512/1024" in text, text)
    check("CORE=0" in text, text)


def test_children_get_the_open_file_limit_luvsup_was_given(t):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want_soft = min(1024, hard)

    def lower_soft_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (want_soft, hard))

    t.stack('''
service "probe" {
  cmd = [[{ echo "NOFILE=$(ulimit -Sn)"; echo END; } > out.txt; exec sleep 1000]],
}
''')
    run = t.run(preexec_fn=lower_soft_limit)
    text = t.wait_file("out.txt", lambda s: s.endswith("END\n"))
    with open(f"/proc/{run.pid}/limits") as f:
        own = [line for line in f if line.startswith("Max open files")][0].split()
    run.stop()
    check(f"NOFILE={want_soft}" in text, f"child keeps the limit luvsup was given: {text}")
    check(int(own[3]) == hard or own[3] == "unlimited", f"luvsup raised its own soft limit: {own}")


def test_user_and_group_switch_with_supplementary_groups(t):
    if os.geteuid() != 0:
        return  # only root can switch users; nothing to check otherwise
    os.chmod(t.path, 0o755)
    os.makedirs(t.file("out"), mode=0o777)
    os.chmod(t.file("out"), 0o777)
    text = run_probe(t, '''
service "probe" {
  cmd = [[{ echo "UID=$(id -un) GID=$(id -gn)"; echo "GROUPS=$(id -Gn)"; echo "HOME=$HOME USER=$USER"; echo END; } > out/out.txt; exec sleep 1000]],
  user = "nobody",
  group = "nogroup",
}
''', outfile="out/out.txt")
    check("UID=nobody GID=nogroup" in text, text)
    check("USER=nobody" in text, text)


def test_string_cmd_runs_through_sh_and_argv_table_does_not(t):
    text = run_probe(t, '''
service "probe" {
  cmd = { "sh", "-c", "echo \\"ARGS=$0 $1\\" > out.txt; echo END >> out.txt; exec sleep 1000", "first", "a b" },
}
''')
    check("ARGS=first a b" in text, text)
