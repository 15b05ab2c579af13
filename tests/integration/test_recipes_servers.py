"""The server recipes (redis, postgres, nginx, python_app) on the real
programs, installed by `make test-deps` from Debian packages: each starts,
becomes healthy, survives a kill -9 of its main process, answers a real
request, and stops leaving nothing behind. Also the mistakes a recipe names
(options at load time, a data directory or root at run time) and a reload
that must keep unchanged recipe services. Every test uses its own free port
and directories, so a system instance of the same program never matters."""
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.request

from harness import check, free_port, pid_alive, tagged_pids

# Postgres's first start runs initdb, and its start after a kill replays the
# WAL: generous deadlines for a loaded 2-core machine (they only bound a failure).
SLOW = 150
PG_USER = "luvsup-pg"


def skip(why):
    print(f"SKIP: {why}")


def start(t, name, recipe, expr, chmod=False, restart="backoff.fixed { delay = 0 }"):
    """Runs a stack of one service made by `recipe`."""
    stack = t.stack(f'''
local {recipe} = require "recipes.{recipe}"
local backoff = require "luvsup.backoff"
local svc = {expr}
svc.restart = {restart}
service "{name}" (svc)
''')
    if chmod:
        os.chmod(t.path, 0o755)  # the service's user (or nginx's workers) must reach the directory
    run = t.run()
    return stack, run


def main_pid(run, name, count, timeout=20):
    m = run.wait_log(rf"{name}: started \(pid (\d+)\)", count=count, timeout=timeout)
    return int(m[count - 1].group(1))


def survives_a_kill(run, stack, name, timeout=60):
    """Kills the service's main process with SIGKILL; waits for it to be restarted and healthy again."""
    first = main_pid(run, name, 1)
    others = [p for p in tagged_pids(stack, name) if p != first]
    os.kill(first, signal.SIGKILL)
    second = main_pid(run, name, 2, timeout=timeout)  # after its leftovers are stopped
    check(second != first, "a new main process")
    run.wait_log(rf"{name}: healthy \(", count=2, timeout=timeout)
    check(not any(pid_alive(p) for p in others), f"the killed {name}'s other processes are gone")
    return second


def stops_cleanly(run, stack):
    check(run.stop(timeout=90) == 0, "luvsup exits 0 after stopping the service")
    check(tagged_pids(stack) == [], "no process of the service left")


def sh(*argv, env=None, timeout=30):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    return proc.returncode, proc.stdout.strip(), proc.stderr.strip()


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None


# redis -----------------------------------------------------------------------

def test_redis_recipe_serves_keeps_its_data_across_a_kill_and_stops(t):
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        return skip("redis-server is not installed (make test-deps installs the redis-server package)")
    port = free_port()
    stack, run = start(t, "cache", "redis",
                       f'redis {{ port = {port}, dir = "data/redis", password = "s3cret", appendonly = true, '
                       f'maxmemory = "32mb", save = false, args = {{ "--appendfsync", "always" }} }}')
    run.wait_log(r"cache: healthy \(exec exit 0", timeout=60)
    auth = {"REDISCLI_AUTH": "s3cret"}
    cli = ("redis-cli", "-p", str(port))
    check(sh(*cli, "SET", "greeting", "hello", env=auth)[1] == "OK", "SET answered OK")
    check(sh(*cli, "GET", "greeting", env=auth)[1] == "hello", "GET returns the value")
    check("NOAUTH" in sh(*cli, "GET", "greeting", env={"REDISCLI_AUTH": ""})[1], "the password is required")
    check(sh(*cli, "CONFIG", "GET", "maxmemory", env=auth)[1].split() == ["maxmemory", str(32 * 1024 * 1024)],
          "maxmemory is set")
    check(os.path.isdir(t.file("data/redis/appendonlydir")), "the append-only file is in the recipe's dir")
    check(sh(*cli, "CONFIG", "GET", "appendfsync", env=auth)[1].split() == ["appendfsync", "always"],
          "args reach the server (so SET is on disk before its reply)")
    survives_a_kill(run, stack, "cache")
    check(sh(*cli, "GET", "greeting", env=auth)[1] == "hello", "the value survived the kill (append-only file)")
    stops_cleanly(run, stack)


def test_redis_recipe_counts_an_error_reply_to_ping_as_a_failure(t):
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        return skip("redis-server is not installed (make test-deps installs the redis-server package)")
    port = free_port()
    # The probe's redis-cli reads REDISCLI_AUTH from the service's environment:
    # a wrong one makes it exit 0 with an error reply.
    stack, run = start(t, "cache", "redis", f'redis {{ port = {port}, password = "right", save = false }}\n'
                                            f'svc.env.REDISCLI_AUTH = "wrong"')
    run.wait_log(r"cache: health probe failed \(not counted in the start period\): redis-cli ping answered: .*NOAUTH")
    check(run.count(r"cache: healthy") == 0, "never healthy")
    stops_cleanly(run, stack)


# postgres --------------------------------------------------------------------

def pg_bin():
    def version(path):
        return [int(x) for x in path.split("/")[4].split(".")]

    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    return os.path.dirname(dirs[-1]) if dirs else None


def ensure_pg_user():
    """The unprivileged user postgres runs as when the tests run as root."""
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        pass
    # Another test run may create it at the same moment: check again after a failure.
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                   capture_output=True)
    return pwd.getpwnam(PG_USER)


def pg_setup(t):
    """Returns the recipe's user option; makes data/pg owned by that user."""
    os.makedirs(t.file("data/pg"))
    if os.geteuid() != 0:
        return "false"
    user = ensure_pg_user()
    os.chown(t.file("data/pg"), user.pw_uid, user.pw_gid)
    return f'"{PG_USER}"'


def psql(bin_dir, t, port, sql):
    return sh(os.path.join(bin_dir, "psql"), "-h", t.file("data/pg"), "-p", str(port), "-U", "postgres",
              "-d", "postgres", "-tAc", sql)


def test_postgres_recipe_initialises_serves_recovers_from_a_kill_and_stops(t):
    bin_dir = pg_bin()
    if not bin_dir:
        return skip("PostgreSQL is not installed (make test-deps installs the postgresql package)")
    user = pg_setup(t)
    port = free_port()
    stack, run = start(t, "db", "postgres",
                       f'postgres {{ port = {port}, data = "data/pg", user = {user}, '
                       f'initdb_args = {{ "--no-sync" }}, settings = {{ fsync = false, max_connections = 20 }} }}',
                       chmod=True)
    run.wait_log(r"db: healthy \(exec exit 0", timeout=SLOW)
    check(os.path.exists(t.file("data/pg/PG_VERSION")), "initdb ran into the data directory")
    if os.geteuid() == 0:
        check(os.stat(t.file("data/pg/PG_VERSION")).st_uid == pwd.getpwnam(PG_USER).pw_uid,
              "the server runs as the unprivileged user")
    check(psql(bin_dir, t, port, "select 1")[1] == "1", "select 1 over the recipe's socket")
    check(psql(bin_dir, t, port, "show max_connections")[1] == "20", "settings reach the server")
    code, out, err = psql(bin_dir, t, port, "create table kept (x int); insert into kept values (42)")
    check(code == 0, f"create and insert: {err}")
    survives_a_kill(run, stack, "db", timeout=SLOW)
    check(psql(bin_dir, t, port, "select x from kept")[1] == "42", "committed data survived the kill")
    check(run.count(r"postgres recipe: initialising") == 1, "initdb ran once (before_start), not again after the kill")
    stops_cleanly(run, stack)
    check(b"received fast shutdown request" in t.service_log("db"), "stopped by a fast shutdown (SIGINT)")


def test_postgres_recipe_names_a_data_directory_its_user_does_not_own(t):
    if not pg_bin():
        return skip("PostgreSQL is not installed (make test-deps installs the postgresql package)")
    if os.geteuid() != 0:
        return skip("needs root to make a directory another user owns")
    ensure_pg_user()
    os.makedirs(t.file("data/pg"))  # owned by root
    stack, run = start(t, "db", "postgres", f'postgres {{ port = {free_port()}, user = "{PG_USER}" }}', chmod=True,
                       restart='"never"')
    run.wait_log(r"must be owned by luvsup-pg")
    check(f"(mkdir -p {t.file('data/pg')} && chown luvsup-pg {t.file('data/pg')})" in run.log(),
          "before_start refuses the start and names the fix")
    stops_cleanly(run, stack)


def test_postgres_recipe_refuses_root_with_the_fix(t):
    if not pg_bin():
        return skip("PostgreSQL is not installed (make test-deps installs the postgresql package)")
    if os.geteuid() != 0:
        return skip("the refusal is about running as root")
    stack, run = start(t, "db", "postgres", f'postgres {{ port = {free_port()}, user = false }}', restart='"never"')
    run.wait_log(r"PostgreSQL refuses to run as root: set 'user'")
    check(not os.path.exists(t.file("data/pg/PG_VERSION")), "no initdb as root")
    stops_cleanly(run, stack)


# nginx -----------------------------------------------------------------------

def test_nginx_recipe_serves_its_root_survives_a_kill_and_stops_gracefully(t):
    if not shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin"):
        return skip("nginx is not installed (make test-deps installs the nginx package)")
    port = free_port()
    t.write("public/hello.txt", "hello from nginx\n")
    stack, run = start(t, "web", "nginx", f'nginx {{ port = {port}, root = "public" }}', chmod=True)
    run.wait_log(r"web: healthy \(http ", timeout=60)
    url = f"http://127.0.0.1:{port}/hello.txt"
    check(http_get(url) == (200, b"hello from nginx\n"), "serves the root")
    check(http_get(f"http://127.0.0.1:{port}/missing")[0] == 404, "a missing file is a 404")
    prefix = f"run/nginx-{port}"
    for f in ("nginx.conf", "logs/nginx.pid", "logs/error.log", "logs/access.log"):
        check(t.exists(f"{prefix}/{f}"), f"{f} under the prefix")
    check(int(t.read(f"{prefix}/logs/nginx.pid")) == main_pid(run, "web", 1), "the pid file names the master")
    t.wait_file(f"{prefix}/logs/access.log", lambda text: "/hello.txt" in text)  # written after the response
    survives_a_kill(run, stack, "web")  # its workers held the port: they must be gone first
    check(http_get(url) == (200, b"hello from nginx\n"), "serves again")
    stops_cleanly(run, stack)
    check(re.search(r"web: stopping \(SIGQUIT", run.log()) is not None, "stopped by a graceful SIGQUIT")


def test_nginx_recipe_runs_a_configuration_of_its_own(t):
    if not shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin"):
        return skip("nginx is not installed (make test-deps installs the nginx package)")
    port = free_port()
    t.write("conf/nginx.conf", f'''
pid logs/own.pid;
events {{ }}
http {{
  access_log off;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "own conf\\n"; }} }}
}}
''')
    stack, run = start(t, "web", "nginx", f'nginx {{ port = {port}, conf = "conf/nginx.conf", prefix = "run/own" }}')
    run.wait_log(r"web: healthy \(http 200", timeout=60)
    check(http_get(f"http://127.0.0.1:{port}/") == (200, b"own conf\n"), "serves with the given conf")
    check(t.exists("run/own/logs/own.pid") and not t.exists("run/own/nginx.conf"), "nothing generated")
    stops_cleanly(run, stack)


def test_nginx_recipe_names_a_missing_root(t):
    if not shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin"):
        return skip("nginx is not installed (make test-deps installs the nginx package)")
    stack, run = start(t, "web", "nginx", f'nginx {{ port = {free_port()}, root = "nowhere" }}', restart='"never"')
    t.wait_file("logs/web.log", lambda text: "nginx recipe: the root directory nowhere does not exist" in text)
    stops_cleanly(run, stack)


# python_app ------------------------------------------------------------------

APP = '''
import http.server, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\\n" if self.path == "/healthz" else b"hello from the app\\n"
        self.send_response(200 if self.path in ("/healthz", "/") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''


# An ASGI and a WSGI application with the standard library only.
ASGI_APP = '''
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b"ok\\n" if scope["path"] == "/health" else b"hello from the app\\n"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
'''

WSGI_APP = '''
def app(environ, start_response):
    body = b"ok\\n" if environ["PATH_INFO"] == "/health" else b"hello from the app\\n"
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
'''


def python_app_lifecycle(t, port, expr, health="/health"):
    """Starts a python_app service, checks that its own health path made it healthy,
    that it answers, survives a kill and stops."""
    stack, run = start(t, "api", "python_app", expr)
    run.wait_log(r"api: healthy \(http 200", timeout=60)
    check("healthy (fallback" not in run.log() and "looks broken" not in run.log(),
          "healthy on its own path, not by the TCP fallback")
    check(http_get(f"http://127.0.0.1:{port}{health}") == (200, b"ok\n"), "answers its health path")
    check(http_get(f"http://127.0.0.1:{port}/") == (200, b"hello from the app\n"), "answers a request")
    survives_a_kill(run, stack, "api")
    check(http_get(f"http://127.0.0.1:{port}{health}") == (200, b"ok\n"), "answers again")
    stops_cleanly(run, stack)


def test_python_app_recipe_is_probed_on_its_health_path_survives_a_kill_and_stops(t):
    port = free_port()
    t.write("backend/app.py", APP)
    python_app_lifecycle(t, port, f'python_app {{ server = "python", script = "app.py", port = {port}, '
                                  f'cwd = "backend", path = "/healthz" }}', health="/healthz")


def test_python_app_recipe_runs_an_asgi_app_under_uvicorn(t):
    if not shutil.which("uvicorn"):
        return skip("uvicorn is not installed (make test-deps installs the uvicorn package)")
    port = free_port()
    t.write("backend/main.py", ASGI_APP)
    python_app_lifecycle(t, port, f'python_app {{ module = "main:app", port = {port}, cwd = "backend" }}')


def test_python_app_recipe_runs_a_wsgi_app_under_gunicorn_with_workers(t):
    if not shutil.which("gunicorn"):
        return skip("gunicorn is not installed (make test-deps installs the gunicorn package)")
    port = free_port()
    t.write("web/wsgi.py", WSGI_APP)
    python_app_lifecycle(t, port, f'python_app {{ server = "gunicorn", module = "wsgi:app", port = {port}, '
                                  f'cwd = "web", workers = 2, env = {{ PYTHONDONTWRITEBYTECODE = "1" }} }}')
    check(t.service_log("api").count(b"Booting worker") >= 4, "two workers, twice (before and after the kill)")


def test_python_app_recipe_without_a_health_path_is_healthy_by_its_tcp_fallback(t):
    port = free_port()
    t.write("app.py", APP)
    stack, run = start(t, "api", "python_app", f'python_app {{ server = "python", port = {port} }}')
    run.wait_log(r"api: healthy \(fallback tcp 127\.0\.0\.1:\d+", timeout=60)
    check("the health probe looks broken (HTTP 404" in run.log(), "the broken probe is named")
    stops_cleanly(run, stack)


# option errors ---------------------------------------------------------------

def test_recipe_option_mistakes_are_named_at_the_stack_line(t):
    cases = [
        ('redis { prot = 1 }', "redis: unknown option 'prot'; did you mean 'port'?"),
        ('redis { port = 70000 }', "redis: 'port' must be a port from 1 to 65535, got 70000"),
        ('redis { maxmemory_policy = "allkeys-lru" }', "redis: 'maxmemory_policy' needs 'maxmemory'"),
        ('redis { save = 5 }', "redis: 'save' must be a string"),
        ('postgres { bin_dir = "/usr" }', "postgres: no PostgreSQL server found in /usr (it needs"),
        ('postgres { user = "" }', "postgres: 'user' must be a user name, or false"),
        ('postgres { initdb_args = { "--locale C" } }', "postgres: 'initdb_args' element 1 has a space"),
        ('postgres { settings = { fsync = {} } }', "postgres: 'settings.fsync' must be a string or a number"),
        ('nginx { conf = "x.conf", root = "public" }', "nginx: 'conf' replaces the generated configuration"),
        ('nginx { health_path = "status" }', "nginx: 'health_path' must start with '/'"),
        ('python_app { server = "uwsgi" }',
         "python_app: 'server' must be one of \"uvicorn\", \"gunicorn\", \"python\", got \"uwsgi\""),
        ('python_app { module = "app" }', "python_app: 'module' must be \"module:attribute\""),
        ('python_app { server = "python", module = "app:app" }', "python_app: 'module' is for uvicorn and gunicorn"),
        ('python_app "app:app"', "python_app: expected a table of options"),
    ]
    for expr, message in cases:
        recipe = expr.split()[0]
        t.stack(f'local {recipe} = require "recipes.{recipe}"\n\nservice "x" ({expr})\n')
        code, out, err = t.check()
        check(code != 0, f"{expr}: refused")
        check(f"stack.lua:3: {message}" in err, f"{expr}: expected {message!r} at line 3, got {err!r}")


def test_postgres_recipe_without_a_server_says_how_to_install_one(t):
    t.stack('local postgres = require "recipes.postgres"\nservice "db" (postgres { bin_dir = "/nonexistent/*/bin" })\n')
    code, _, err = t.check()
    check(code != 0, "refused")
    check("stack.lua:2: postgres: no PostgreSQL server found in /nonexistent/*/bin (it needs initdb, postgres "
          "and pg_isready): install it (Debian: apt-get install postgresql) or set 'bin_dir'" in err, err)


# reload ----------------------------------------------------------------------

def test_a_reload_keeps_recipe_services_whose_options_did_not_change(t):
    # Recipes build new tables and verdict closures on every load: the same
    # options must still mean the same service, or each reload restarts them.
    if not shutil.which("redis-server") or not shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin"):
        return skip("redis-server or nginx is not installed (make test-deps installs them)")
    redis_port, nginx_port = free_port(), free_port()
    os.makedirs(t.file("public"))

    def stack(maxmemory):
        return f'''
local redis = require "recipes.redis"
local nginx = require "recipes.nginx"
service "cache" (redis {{ port = {redis_port}, save = false, maxmemory = "{maxmemory}" }})
service "web" (nginx {{ port = {nginx_port} }})
'''
    t.stack(stack("16mb"))
    os.chmod(t.path, 0o755)
    run = t.run()
    run.wait_log(r"cache: healthy \(", timeout=60)
    run.wait_log(r"web: healthy \(", timeout=60)
    run.send(signal.SIGHUP)
    run.wait_log(r"reload: no changes")
    t.write("stack.lua", stack("32mb"))
    run.wait_log(r"reload: ~cache \(cmd changed: restarted\)")
    run.wait_log(r"cache: healthy \(", count=2, timeout=60)
    check(run.count(r"web: started") == 1, "web untouched")
    stops_cleanly(run, t.file("stack.lua"))
