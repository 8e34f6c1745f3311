"""A local HTTP server (origin and forward proxy) that serves a corpus of pages by URL."""
from __future__ import annotations

import email.utils
import hashlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

CONTENT_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Route:
    """What one URL serves: a file on disk or bytes in memory."""

    path: Path | None = None
    body: bytes | None = None
    content_type: str | None = None
    status: int = 200

    def read(self) -> bytes:
        return self.body if self.body is not None else Path(self.path).read_bytes()

    def type(self) -> str:
        if self.content_type:
            return self.content_type
        suffix = Path(self.path).suffix.lower() if self.path else ".html"
        return CONTENT_TYPES.get(suffix, "application/octet-stream")


def route_key(url: str) -> tuple:
    parts = urlsplit(url)
    return parts.netloc.lower(), parts.path or "/"


class CorpusServer:
    """Serves routes on 127.0.0.1, both as an origin (Host header) and as a forward proxy.

    As a proxy it answers absolute-form requests (``GET http://outlet.example/a HTTP/1.1``),
    which is how the pipeline's ``--proxy`` reaches the corpus's ``.example`` hosts.
    """

    def __init__(self, routes: dict | None = None, host: str = "127.0.0.1", port: int = 0):
        self._routes: dict = {}
        self._lock = threading.Lock()
        self.requests: list = []  # (host, path, status) in arrival order, for tests
        for url, route in (routes or {}).items():
            self.set_route(url, route)
        self._httpd = _QuietServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_route(self, url: str, route: Route) -> None:
        with self._lock:
            self._routes[route_key(url)] = route

    def lookup(self, host: str, path: str) -> Route | None:
        with self._lock:
            return self._routes.get((host.lower(), path or "/"))

    def start(self) -> "CorpusServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="corpus-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up early (timeouts, aborted oversized reads) are normal here, not errors."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _handler_for(server: CorpusServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the client's delayed ACK adds 40 ms to each.
        disable_nagle_algorithm = True

        def log_message(self, *args):  # tests read server.requests instead of stderr noise
            pass

        def do_HEAD(self):
            self._serve(head=True)

        def do_GET(self):
            self._serve(head=False)

        def _serve(self, head: bool):
            if self.path.startswith(("http://", "https://")):
                parts = urlsplit(self.path)
                host, path = parts.netloc, parts.path or "/"
            else:
                host = self.headers.get("Host", "")
                path = urlsplit(self.path).path or "/"
            route = server.lookup(host, path)
            if route is None:
                self._send(404, b"not found", "text/plain", head)
                server.requests.append((host.lower(), path, 404))
                return
            body = route.read()
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if route.status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                server.requests.append((host.lower(), path, 304))
                return
            extra = {"ETag": etag} if route.status == 200 else {}
            self._send(route.status, body, route.type(), head, extra)
            server.requests.append((host.lower(), path, route.status))

        def _send(self, status, body, ctype, head, extra=None):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Date", email.utils.formatdate(usegmt=True))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler
