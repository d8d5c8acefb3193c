"""A WebSub subscriber for bench/websub.sh: answers every verification with its challenge and
logs each delivery as `<unix ms> POST <path> <bytes>` on stdout (one line each, flushed).

    python3 bench/subscriber.py PORT        (binds 127.0.0.1:PORT)
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)
        body = query.get("hub.challenge", [""])[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        arrived = int(time.time() * 1000)
        with LOCK:
            sys.stdout.write(f"{arrived} POST {urlsplit(self.path).path} {len(body)}\n")
            sys.stdout.flush()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
