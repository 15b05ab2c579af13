"""The nginx recipe's runbook on the real nginx: a change to its own
configuration file is checked with `nginx -t` and applied with SIGHUP (the
master stays, the workers are replaced, the new configuration is served); a
broken change is refused with nginx's complaint and the old one keeps serving."""
import os
import shutil

from harness import check, free_port, pid_alive, wait_until
from test_recipes_servers import http_get, main_pid, start, stops_cleanly


def skip(why):
    print(f"SKIP: {why}")


def conf(port, body, extra=""):
    return f'''
pid logs/own.pid;
events {{ }}
http {{
  access_log off;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  {extra}
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "{body}\\n"; }} }}
}}
'''


def save(t, name, text):
    tmp = t.file(name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, t.file(name))


def workers(master):
    try:
        with open(f"/proc/{master}/task/{master}/children") as f:
            return {int(p) for p in f.read().split()}
    except OSError:
        return set()


def test_nginx_recipe_reloads_a_changed_configuration_with_sighup(t):
    if not shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin"):
        return skip("nginx is not installed (make test-deps installs the nginx package)")
    port = free_port()
    t.write("conf/nginx.conf", conf(port, "version one"))
    stack, run = start(t, "web", "nginx", f'nginx {{ port = {port}, conf = "conf/nginx.conf", prefix = "run/own" }}')
    run.wait_log(r"web: healthy \(http 200", timeout=60)
    url = f"http://127.0.0.1:{port}/"
    check(http_get(url) == (200, b"version one\n"), "serves the first configuration")
    master = main_pid(run, "web", 1)
    wait_until(lambda: workers(master), what="nginx's workers")
    before = workers(master)

    save(t, "conf/nginx.conf", conf(port, "version two"))
    run.wait_log(r"conf/nginx\.conf is valid \(nginx -t\); reloading nginx \(SIGHUP\)")
    wait_until(lambda: http_get(url) == (200, b"version two\n"), what="the new configuration served")
    check(pid_alive(master) and run.count(r"web: started \(pid") == 1, "the master kept running")
    wait_until(lambda: workers(master) and not workers(master) & before, what="the workers replaced")

    save(t, "conf/nginx.conf", conf(port, "version three", extra="no_such_directive on;"))
    run.wait_log(r"nginx -t rejected .*conf/nginx\.conf; keeping the running configuration: .*no_such_directive")
    check(http_get(url) == (200, b"version two\n"), "the running configuration keeps serving")
    stops_cleanly(run, stack)
