#!/usr/bin/env python3
"""The HTTP server of the HTTP engine's tests (tests/unit/test_http_http_client.cpp).

Listens on 127.0.0.1 on free ports (or those of --http-port, --https-port and
--silent-port) and prints them as one JSON line once every listener is bound:
{"http": P, "https": P, "silent": P} ("https" only with --cert and --key).
Exits when its stdin reaches end of file, that is when the test process closes
the pipe or dies; with --until-killed it ignores stdin and serves until a
signal ends it (as a luvsup service, whose stdin is /dev/null).

Endpoints (HTTP/1.1 with keep-alive, on the http and https listeners):
  /ok            200 "hello"
  /status/N      status N, body "status N"
  /big?bytes=N   200 with N bytes of "0123456789" repeated
  /hang          never answers
  /redirect      302 to /ok
  /echo          200; the body lists "method: M", "header NAME: VALUE" for
                 every request header (names in lower case) and "body: B"
  /big-headers   200 with 100 KiB of response headers
  /connections   200; the body is the number of connections accepted so far
  /held          200; the body is the number of connections the silent
                 listener has accepted
  /webhook/NAME  200 "ok"; keeps the request's Content-Type and body under NAME
  /received/NAME 200; the body is what /webhook/NAME last kept, as JSON
                 {"content_type": ..., "body": ...} (404 before any)
The silent listener accepts connections and never reads or writes.
"""
import argparse
import http.server
import json
import socket
import ssl
import sys
import threading

connections = 0
connections_lock = threading.Lock()
held = []  # sockets of the silent listener, kept open
received = {}  # what /webhook/NAME received, by NAME


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        global connections
        with connections_lock:
            connections += 1
        context = getattr(self.server, "tls", None)
        if context is not None:
            self.request = context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def answer(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if path == "/ok":
            self.reply(200, b"hello")
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            self.reply(code, b"status %d" % code)
        elif path == "/big":
            size = int(query.partition("=")[2])
            self.reply(200, (b"0123456789" * (size // 10 + 1))[:size])
        elif path == "/hang":
            threading.Event().wait()
        elif path == "/redirect":
            self.reply(302, b"moved", [("Location", "/ok")])
        elif path == "/echo":
            lines = ["method: " + self.command]
            lines += ["header %s: %s" % (k.lower(), v) for k, v in self.headers.items()]
            lines.append("body: " + body.decode("utf-8", "replace"))
            self.reply(200, "\n".join(lines).encode())
        elif path == "/big-headers":
            pad = [("X-Pad-%d" % i, "x" * 1024) for i in range(100)]
            self.reply(200, b"padded", pad)
        elif path == "/connections":
            with connections_lock:
                count = connections
            self.reply(200, str(count).encode())
        elif path == "/held":
            self.reply(200, str(len(held)).encode())
        elif path.startswith("/webhook/"):
            received[path[len("/webhook/"):]] = {
                "content_type": self.headers.get("Content-Type", ""),
                "body": body.decode("utf-8", "replace"),
            }
            self.reply(200, b"ok")
        elif path.startswith("/received/"):
            kept = received.get(path[len("/received/"):])
            if kept is None:
                self.reply(404, b"nothing received")
            else:
                self.reply(200, json.dumps(kept).encode())
        else:
            self.reply(404, b"no such endpoint")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        pass  # failed TLS handshakes and clients that went away are part of the tests


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def hold_silently(listener):
    while True:
        conn, _ = listener.accept()
        held.append(conn)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--http-port", type=int, default=0)
    parser.add_argument("--https-port", type=int, default=0)
    parser.add_argument("--silent-port", type=int, default=0)
    parser.add_argument("--until-killed", action="store_true")
    args = parser.parse_args()

    ports = {}
    plain = Server(("127.0.0.1", args.http_port), Handler)
    ports["http"] = plain.server_address[1]
    serve(plain)
    if args.cert and args.key:
        secure = Server(("127.0.0.1", args.https_port), Handler)
        secure.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        secure.tls.load_cert_chain(args.cert, args.key)
        ports["https"] = secure.server_address[1]
        serve(secure)
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", args.silent_port))
    silent.listen(128)
    ports["silent"] = silent.getsockname()[1]
    threading.Thread(target=hold_silently, args=(silent,), daemon=True).start()

    print(json.dumps(ports), flush=True)
    if args.until_killed:
        threading.Event().wait()
    else:
        sys.stdin.read()  # until the test closes the pipe


if __name__ == "__main__":
    main()
