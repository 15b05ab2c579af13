"""The team's UI on UI_PORT (default 5000): one page that shows what the
backend and the learning API answer."""
import html
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("UI_PORT", "5000"))
SOURCES = {
    "backend": os.environ.get("BACKEND_URL", "http://127.0.0.1:5001") + "/api/items",
    "learning": os.environ.get("LEARNING_URL", "http://127.0.0.1:5002") + "/api/lessons",
}


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.read().decode()
    except OSError as e:
        return f"unavailable: {e}"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path not in ("/", "/index.html"):
            self.send_error(404)
            return
        rows = "".join(f"<h2>{name}</h2><pre>{html.escape(fetch(url))}</pre>" for name, url in SOURCES.items())
        data = f"<!doctype html><title>team</title><h1>Team dashboard</h1>{rows}".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print("ui:", fmt % args, flush=True)


if __name__ == "__main__":
    print(f"ui on http://127.0.0.1:{PORT}/", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
