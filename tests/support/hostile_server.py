"""A local HTTP server that misbehaves on purpose, for testing clients against hostile hosts.

Routes map a request target (a path, or an absolute URL when used as a forward proxy) to an
action. An action gets an :class:`Exchange` and may answer politely (:func:`respond`) or not:
lie about Content-Length, trickle bytes, hang, reset the connection, redirect forever.

    with HostileServer({"/a": respond(200, b"hi"), "/b": trickle(b"slow", interval=0.5)}) as server:
        fetch(server.url + "/a")
"""
from __future__ import annotations

import gzip
import socket
import ssl
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import brotli


@dataclass(frozen=True)
class SeenRequest:
    """One request as the server received it."""

    method: str
    target: str
    headers: dict
    at: float


class Exchange:
    """One request being answered; actions write through it."""

    def __init__(self, handler: BaseHTTPRequestHandler, server: "HostileServer", hit: int):
        self.handler = handler
        self.server = server
        self.hit = hit  # how many earlier requests this route answered

    def send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        """A well-formed response with an honest Content-Length."""
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        self.send_head(status, headers)
        self.write(body)

    def send_head(self, status: int, headers: dict | None = None) -> None:
        self.handler.send_response(status)
        for name, value in (headers or {}).items():
            self.handler.send_header(name, value)
        self.handler.end_headers()
        self.handler.wfile.flush()

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def sleep(self, seconds: float) -> bool:
        """Wait unless the server is stopping; False means stop misbehaving and return."""
        return not self.server.stopping.wait(seconds)

    def close(self) -> None:
        """Drop the connection after this response instead of keeping it alive."""
        self.handler.close_connection = True

    def reset(self) -> None:
        """Abort the connection with a TCP RST."""
        sock = self.handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()


Action = Callable[[Exchange], None]


def respond(status: int = 200, body: bytes = b"", headers: dict | None = None) -> Action:
    """A normal response."""
    return lambda ex: ex.send(status, body, headers)


def redirect(location: str, status: int = 302) -> Action:
    """A redirect to location (absolute or relative)."""
    return respond(status, b"", {"Location": location})


def sequence(*actions: Action) -> Action:
    """The nth request gets the nth action; the last one repeats."""
    return lambda ex: actions[min(ex.hit, len(actions) - 1)](ex)


def encoded(body: bytes, encoding: str, status: int = 200, headers: dict | None = None) -> Action:
    """body compressed with gzip, deflate (zlib-wrapped), raw-deflate or br."""
    data = compress(body, encoding)
    name = "deflate" if encoding == "raw-deflate" else encoding
    return respond(status, data, {"Content-Encoding": name, **(headers or {})})


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=9)
    if encoding == "deflate":
        return zlib.compress(body, 9)
    if encoding == "raw-deflate":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(body) + c.flush()
    if encoding == "br":
        return brotli.compress(body)
    raise ValueError(encoding)


def raw_response(data: bytes) -> Action:
    """Writes data verbatim (status line included) and hangs up; for malformed framing."""

    def action(ex: Exchange) -> None:
        ex.write(data)
        ex.close()

    return action


def endless_chunked(chunk: bytes = b"x" * 65536) -> Action:
    """Chunked transfer encoding that never sends the last chunk."""

    def action(ex: Exchange) -> None:
        ex.send_head(200, {"Transfer-Encoding": "chunked"})
        ex.close()
        try:
            while not ex.server.stopping.is_set():
                ex.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            return  # the client gave up

    return action


def lying_length(body: bytes, claimed: int, headers: dict | None = None) -> Action:
    """Claims Content-Length `claimed` but sends `body` and hangs up (truncation)."""

    def action(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Length": str(claimed), **(headers or {})})
        ex.write(body)
        ex.close()

    return action


def unframed(body: bytes, headers: dict | None = None) -> Action:
    """No Content-Length: the body ends when the connection closes."""

    def action(ex: Exchange) -> None:
        ex.send_head(200, {"Connection": "close", **(headers or {})})
        ex.write(body)
        ex.close()

    return action


def endless(chunk: bytes = b"x" * 65536, headers: dict | None = None) -> Action:
    """No Content-Length and a body that never ends, until the client hangs up."""

    def action(ex: Exchange) -> None:
        ex.send_head(200, {"Connection": "close", **(headers or {})})
        ex.close()
        try:
            while not ex.server.stopping.is_set():
                ex.write(chunk)
        except OSError:
            return  # the client gave up, which is what the test wants

    return action


def trickle(body: bytes, interval: float, headers: dict | None = None) -> Action:
    """Honest headers, then one body byte every `interval` seconds."""

    def action(ex: Exchange) -> None:
        ex.send_head(200, {"Content-Length": str(len(body)), **(headers or {})})
        ex.close()
        _dribble(ex, body, interval)

    return action


def _dribble(ex: Exchange, data: bytes, interval: float) -> None:
    """Write data one byte every `interval` seconds until done, stopped, or the client gives up."""
    try:
        for i in range(len(data)):
            if not ex.sleep(interval):
                return
            ex.write(data[i : i + 1])
    except OSError:
        return  # the client gave up


def slow_headers(interval: float) -> Action:
    """Sends the status line and headers one byte every `interval` seconds (slowloris in reverse)."""
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"y" * 20) for i in range(50))

    def action(ex: Exchange) -> None:
        ex.close()
        _dribble(ex, head, interval)

    return action


def hang(seconds: float) -> Action:
    """Reads the request and says nothing for `seconds`."""

    def action(ex: Exchange) -> None:
        ex.sleep(seconds)
        ex.close()

    return action


def reset() -> Action:
    """Aborts the connection without any response."""
    return lambda ex: ex.reset()


class HostileServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 whose routes misbehave on purpose; origin or forward proxy."""

    def __init__(self, routes: dict | None = None, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1"):
        self.routes: dict[str, Action] = dict(routes or {})
        self.requests: list[SeenRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._hits: dict[str, int] = {}
        self._tls = tls
        self._httpd = _Httpd((host, 0), _handler_class(self), tls)
        self._thread: threading.Thread | None = None
        # Politeness evidence: (host, started, finished) of every answered request, and the most
        # requests one host ever had in flight at once.
        self.spans: list[tuple[str, float, float]] = []
        self.max_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def route(self, target: str, action: Action) -> None:
        with self._lock:
            self.routes[target] = action

    def hits(self, target: str) -> int:
        """How many requests reached target."""
        with self._lock:
            return self._hits.get(target, 0)

    def start(self) -> "HostileServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        host = request_host(handler.path, handler.headers.get("Host", ""))
        with self._lock:
            seen = SeenRequest(handler.command, handler.path, dict(handler.headers.items()), started)
            self.requests.append(seen)
            key = self._route_key(handler.path)
            hit = self._hits.get(key, 0)
            self._hits[key] = hit + 1
            action = self.routes.get(key)
            self._in_flight[host] = self._in_flight.get(host, 0) + 1
            self.max_in_flight[host] = max(self.max_in_flight.get(host, 0), self._in_flight[host])
        try:
            if action is None:
                Exchange(handler, self, hit).send(404, b"not found", {"Content-Type": "text/plain"})
                return
            action(Exchange(handler, self, hit))
        finally:
            with self._lock:
                self._in_flight[host] -= 1
                self.spans.append((host, started, time.monotonic()))

    def _route_key(self, target: str) -> str:
        # A forward proxy sees absolute URLs; an origin sees paths. Exact match wins, then the bare
        # path, then the absolute URL without its default port (robots.txt is asked for as host:80).
        if target in self.routes:
            return target
        bare = target.split("?", 1)[0]
        if bare not in self.routes and "://" in bare:
            scheme, rest = bare.split("://", 1)
            netloc, _, path = rest.partition("/")
            default = {"http": ":80", "https": ":443"}.get(scheme.lower(), "")
            if default and netloc.endswith(default):
                return f"{scheme}://{netloc[: -len(default)]}/{path}"
        return bare


def request_host(target: str, host_header: str) -> str:
    """The host:port a request was for: from an absolute-form target (proxy) or the Host header."""
    if "://" in target:
        netloc = target.split("://", 1)[1].split("/", 1)[0].lower()
        scheme = target.split("://", 1)[0].lower()
        return netloc if ":" in netloc.rsplit("]", 1)[-1] else f"{netloc}:{443 if scheme == 'https' else 80}"
    return host_header.lower()


class _Httpd(ThreadingHTTPServer):
    """ThreadingHTTPServer with optional lazy TLS and quiet error handling."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler_class, tls: ssl.SSLContext | None):
        self._tls = tls
        super().__init__(address, handler_class)

    def get_request(self):
        sock, address = super().get_request()
        if self._tls is not None:
            # Handshake in the handler thread, so a client that rejects the cert cannot stall accept().
            sock = self._tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address) -> None:
        pass  # hostile by design: aborted handshakes and resets are expected, not worth a traceback


def _handler_class(server: HostileServer) -> type:
    class Handler(BaseHTTPRequestHandler):
        """Routes every GET to the server's action table."""

        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.dispatch(self)

        def log_message(self, format, *args) -> None:
            pass  # tests assert on server.requests instead

    return Handler


def self_signed_tls(hostnames: list[str], tmp_path, *, expired: bool = False) -> tuple[ssl.SSLContext, str]:
    """A throwaway CA and a leaf certificate for hostnames; returns (server context, CA bundle path).

    expired=True makes the leaf one that expired yesterday (the CA itself stays valid).
    """
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wiredesk test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=10) if expired else now - datetime.timedelta(minutes=5))
        .not_valid_after(now - datetime.timedelta(days=1) if expired else now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    cert_path, key_path, ca_path = tmp_path / "leaf.pem", tmp_path / "leaf.key", tmp_path / "ca.pem"
    cert_path.write_bytes(leaf_cert.public_bytes(pem))
    key_path.write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_path.write_bytes(ca_cert.public_bytes(pem))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, str(ca_path)


def full_accept_queue() -> tuple[int, list]:
    """(port, sockets to close) of a listener whose accept queue is full: a connect there times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # never accepted: once the queue is full, further SYNs are dropped
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    return port, [listener, *fillers]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): a connect there is refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
