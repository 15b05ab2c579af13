"""The team's backend: a JSON API on BACKEND_PORT (default 5001) with /health."""
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("BACKEND_PORT", "5001"))
STARTED = time.time()
ITEMS = [{"id": 1, "name": "onboarding checklist"}, {"id": 2, "name": "release notes"}]


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
            self.reply(200, {"status": "ok", "uptime": round(time.time() - STARTED, 1)})
        elif self.path == "/api/items":
            self.reply(200, ITEMS)
        else:
            self.reply(404, {"error": "not found"})

    def log_message(self, fmt, *args):
        print("backend:", fmt % args, flush=True)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"backend listening on 127.0.0.1:{PORT}", flush=True)
    server.serve_forever()
