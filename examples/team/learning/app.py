"""The learning API on LEARNING_PORT (default 5002): lessons built from the
backend's items (BACKEND_URL, default http://127.0.0.1:5001), with /health."""
import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("LEARNING_PORT", "5002"))
BACKEND = os.environ.get("BACKEND_URL", "http://127.0.0.1:5001")


def lessons():
    with urllib.request.urlopen(BACKEND + "/api/items", timeout=5) as r:
        items = json.load(r)
    return [{"lesson": i + 1, "title": "Learn about " + item["name"]} for i, item in enumerate(items)]


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok"})
        elif self.path == "/api/lessons":
            try:
                self.reply(200, lessons())
            except OSError as e:
                self.reply(502, {"error": f"backend unreachable: {e}"})
        else:
            self.reply(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        print("learning:", fmt % args, flush=True)


if __name__ == "__main__":
    # It starts only once the backend is healthy (depends_on), so this works.
    print(f"learning API on 127.0.0.1:{PORT}: {len(lessons())} lessons from {BACKEND}", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
