"""Plain-Python HTTP fetching of untrusted URLs: SSRF guard, size and time caps, retries, politeness, robots.txt.

The Beam DoFns wrap :class:`Fetcher`; nothing here imports Beam. Every limit comes from
:class:`schemas.settings.FetchLimits`.
"""
from __future__ import annotations

import email.utils
import ipaddress
import logging
import random
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin

import brotli
import urllib3
from protego import Protego
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import parse_url
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from schemas.errors import Failure
from schemas.settings import FetchLimits

log = logging.getLogger(__name__)

ACCEPT_ENCODING = "gzip, deflate, br"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Socket reads and decoder output are bounded to this, so one call never allocates much.
_CHUNK = 64 * 1024
# Headers that must not follow a redirect to another origin.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

# Failures that count towards a host's circuit breaker (the host, not the URL, misbehaved).
_HOST_FAILURE_REASONS = frozenset(
    {"timeout", "connect_timeout", "read_timeout", "connection_error", "data_loss", "http_429", "dns_error",
     "tls_error"}
)
# robots.txt failures the page itself would hit too: the page fetch reports these, not robots_disallowed.
# A host that cannot be reached at all is down, not "disallowing": calling it a robots skip would hide it.
_SAME_FATE_REASONS = frozenset({"ssrf_blocked", "dns_error", "tls_error", "host_unavailable", "connection_error",
                                "connect_timeout"})
_HTTP_5XX = re.compile(r"http_5\d\d")

# Names that reach cloud metadata or the local machine whatever DNS says.
_BLOCKED_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "metadata.goog"})
_BLOCKED_SUFFIXES = (".localhost", ".internal")
# Ranges the stdlib flags miss or classify differently across Python versions.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # CGNAT; also used by some clouds for internal services
        "169.254.0.0/16",  # link-local, home of 169.254.169.254 metadata
        "192.0.0.0/24",
        "198.18.0.0/15",
        "224.0.0.0/3",  # multicast, reserved and broadcast
        "::/96",  # unspecified and the deprecated IPv4-compatible range
        "100::/64",
        "2001:db8::/32",
        "fc00::/7",  # unique local
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Failure):
    """A fetch that failed, with a machine-readable reason for dead letters and counters.

    ``attempts`` counts the requests sent (retries and redirect hops included), ``status`` is the
    HTTP status when there was one, ``retry_after_s`` the host's Retry-After when it sent one.
    """

    def __init__(
        self,
        reason: str,
        message: str | None = None,
        *,
        attempts: int = 0,
        status: int | None = None,
        retry_after_s: float | None = None,
    ):
        super().__init__(reason, message or reason)
        self.attempts = attempts
        self.status = status
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"

    def __reduce__(self):
        # Beam may pickle exceptions between workers; Exception's default would lose the fields.
        return (self.__class__, (self.reason, self.message), dict(self.__dict__))


@dataclass(frozen=True)
class FetchResult:
    """A successful (2xx) or not-modified (304) response with its decoded body."""

    url: str
    final_url: str
    status: int
    headers: dict
    body: bytes = field(repr=False)
    attempts: int
    elapsed_s: float
    charset: str | None
    content_type: str | None


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for globally routable unicast addresses (embedded IPv4 checked too)."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return is_public_address(embedded)
    if any(ip.version == net.version and ip in net for net in _BLOCKED_NETWORKS):
        return False
    flagged = (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )
    return ip.is_global and not flagged


def _embedded_ipv4(ip) -> ipaddress.IPv4Address | None:
    # IPv6 forms that carry an IPv4 address the kernel or a gateway may route to.
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def parse_ip_literal(host: str):
    """The address a URL host denotes literally, including legacy forms like 2130706433 or 127.1."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass  # not standard notation; try the forms inet_aton (and so getaddrinfo) accepts
    if re.fullmatch(r"[0-9a-fx.]+", host) and any(ch.isdigit() for ch in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or junk."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) from a Content-Type header, both lower-case."""
    if not value:
        return None, None
    media, *params = value.split(";")
    charset = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset":
            charset = raw.strip().strip("\"'").lower() or None
    return media.strip().lower() or None, charset


# --- SSRF guard -----------------------------------------------------------------------------


class _BlockedAddress(Exception):
    """Raised inside a connection when the resolved address is not allowed; not an OSError on purpose."""


class AddressGuard:
    """Decides which hosts and addresses a fetch may reach."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def check_host(self, host: str) -> None:
        """Refuse blocked names and non-public literal IPs before any connection."""
        if self.allow_private:
            return
        name = host.strip("[]").lower().rstrip(".")
        if name in _BLOCKED_NAMES or name.endswith(_BLOCKED_SUFFIXES):
            raise _BlockedAddress(f"host {host!r} is a local or metadata name")
        ip = parse_ip_literal(name)
        if ip is not None and not is_public_address(ip):
            raise _BlockedAddress(f"address {ip} is not public")

    def resolve(self, host: str, port: int) -> list[tuple]:
        """Resolve once and validate every address; the caller connects only to these."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not self.allow_private:
            for info in infos:
                ip = ipaddress.ip_address(info[4][0].split("%")[0])
                if not is_public_address(ip):
                    raise _BlockedAddress(f"{host} resolves to non-public address {ip}")
        return infos


# --- connections ----------------------------------------------------------------------------

_local = threading.local()


def _attach_to_watchdog(conn) -> None:
    watchdog = getattr(_local, "watchdog", None)
    if watchdog is not None:
        watchdog.attach(conn)


def _open_validated_socket(conn, infos: list[tuple]) -> socket.socket:
    """Connect to the first reachable validated address, with urllib3's options and error types."""
    last_error: OSError | None = None
    for family, socktype, proto, _, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if conn.timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(conn.timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as err:
            sock.close()
            last_error = err
    if isinstance(last_error, socket.timeout):
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})")
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last_error}")


class _GuardedConnectionMixin:
    """Connects only to addresses the guard validated, and reports its socket to the fetch's watchdog."""

    guard: AddressGuard | None = None  # None: a trusted proxy resolves names

    def connect(self):
        _attach_to_watchdog(self)
        super().connect()

    def request(self, *args, **kwargs):
        _attach_to_watchdog(self)
        super().request(*args, **kwargs)

    def _new_conn(self):
        if self.guard is None:
            return super()._new_conn()
        try:
            infos = self.guard.resolve(self._dns_host, self.port)
        except socket.gaierror as err:
            raise NameResolutionError(self.host, self, err) from err
        # Host header and TLS SNI/verification still use self.host, the original name.
        return _open_validated_socket(self, infos)


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    """Plain HTTP connection to a validated address."""


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    """TLS connection to a validated address, verified against the URL's host name."""


def _pool_classes(guard: AddressGuard | None) -> dict:
    # One subclass pair per Fetcher, so two fetchers with different limits never share a guard.
    attrs = {"guard": guard}
    http_conn = type("FetcherHTTPConnection", (_GuardedHTTPConnection,), attrs)
    https_conn = type("FetcherHTTPSConnection", (_GuardedHTTPSConnection,), attrs)
    return {
        "http": type("FetcherHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("FetcherHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


def _make_pool_manager(limits: FetchLimits, guard: AddressGuard) -> urllib3.PoolManager:
    options = {"num_pools": 64, "maxsize": 4, "block": False}
    if limits.proxy:
        manager = urllib3.ProxyManager(limits.proxy, **options)
        manager.pool_classes_by_scheme = _pool_classes(None)
    else:
        manager = urllib3.PoolManager(**options)
        manager.pool_classes_by_scheme = _pool_classes(guard)
    return manager


class _Watchdog:
    """Shuts the socket of a fetch that outlives its total deadline, even in the middle of a read."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired = False
        self._conn = None
        self._lock = threading.Lock()
        self._previous = None
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._previous = getattr(_local, "watchdog", None)
        _local.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        self.detach()
        _local.watchdog = self._previous

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.fired or self.remaining() <= 0

    def attach(self, conn) -> None:
        with self._lock:
            self._conn = conn
            if self.fired:
                _shutdown_socket(conn)

    def detach(self) -> None:
        # Before the connection goes back to the pool, so a late timer cannot hit another fetch.
        with self._lock:
            self._conn = None

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._conn is not None:
                _shutdown_socket(self._conn)


def _shutdown_socket(conn) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        # socket.socket's own shutdown, so an SSLSocket is cut at the TCP level without TLS bookkeeping.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer; the blocked read fails either way


# --- body decoding --------------------------------------------------------------------------


class _Overflow(Exception):
    """The body grew past its cap."""


class _NoSlot(Exception):
    """The host's politeness queue reaches past this fetch's deadline; the host did nothing wrong."""


class _Truncated(Exception):
    """A compressed stream ended before its end marker."""


class _Sink:
    """Collects decoded bytes up to a cap, keeping exactly cap bytes when it overflows."""

    def __init__(self, cap: int):
        self.cap = cap
        self.size = 0
        self._parts: list[bytes] = []

    def put(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            self._parts.append(data[: len(data) - (self.size - self.cap)])
            raise _Overflow()
        self._parts.append(data)

    def value(self) -> bytes:
        return b"".join(self._parts)


class _ZlibStage:
    """Incremental gzip or deflate decoding with bounded output per step."""

    def __init__(self, gzip: bool):
        self._gzip = gzip
        self._head = b""  # deflate: wait for two bytes to tell zlib-wrapped from raw
        self._d = zlib.decompressobj(31) if gzip else None

    def process(self, data: bytes):
        if self._d is None:
            self._head += data
            if len(self._head) < 2:
                return
            self._d = zlib.decompressobj(15 if _looks_zlib_wrapped(self._head) else -15)
            data, self._head = self._head, b""
        yield from self._drain(data)

    def _drain(self, data: bytes):
        while True:
            out = self._d.decompress(data, _CHUNK)
            if out:
                yield out
            data = self._d.unconsumed_tail
            if self._d.eof:
                data = self._next_member()
                if not data:
                    return
            elif not data and len(out) < _CHUNK:
                return

    def _next_member(self) -> bytes:
        # Concatenated gzip members are legal; anything else after the end is ignored like browsers do.
        rest = self._d.unused_data
        if self._gzip and rest[:2] == b"\x1f\x8b":
            self._d = zlib.decompressobj(31)
            return rest
        return b""

    def finish(self):
        if self._d is None or not self._d.eof:
            raise _Truncated()
        return ()


def _looks_zlib_wrapped(head: bytes) -> bool:
    return head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


class _BrotliStage:
    """Incremental brotli decoding with bounded output per step."""

    def __init__(self):
        self._d = brotli.Decompressor()

    def process(self, data: bytes):
        out = self._d.process(data, output_buffer_limit=_CHUNK)
        while out:
            yield out
            out = self._d.process(b"", output_buffer_limit=_CHUNK)

    def finish(self):
        if not self._d.is_finished():
            raise _Truncated()
        return ()


def _stages_for(content_encoding: str | None) -> list:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    stages = []
    for coding in reversed(codings):  # the last coding listed was applied last
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            stages.append(_ZlibStage(gzip=True))
        elif coding == "deflate":
            stages.append(_ZlibStage(gzip=False))
        elif coding == "br":
            stages.append(_BrotliStage())
        else:
            raise FetchError("decode_error", f"unsupported Content-Encoding {coding!r}")
    return stages


class _BodyDecoder:
    """Pipes raw body bytes through the Content-Encoding stages into a capped sink."""

    def __init__(self, content_encoding: str | None, cap: int):
        self._stages = _stages_for(content_encoding)
        self._sink = _Sink(cap)
        self._started = False

    def feed(self, data: bytes) -> None:
        self._started = True
        self._push(0, data)

    def _push(self, index: int, data: bytes) -> None:
        if index == len(self._stages):
            self._sink.put(data)
            return
        for out in self._stages[index].process(data):
            self._push(index + 1, out)

    def finish(self) -> bytes:
        if self._started:  # an empty body carries no compressed stream to check
            for index, stage in enumerate(self._stages):
                for out in stage.finish():
                    self._push(index + 1, out)
        return self._sink.value()

    def partial(self) -> bytes:
        return self._sink.value()


# --- per-host state -------------------------------------------------------------------------


@dataclass
class _HostState:
    """Politeness slot and circuit breaker of one host."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    next_slot: float = 0.0
    failures: int = 0
    crawl_delay_s: float = 0.0


@dataclass(frozen=True)
class _RobotsRules:
    """Parsed robots.txt of one origin, or a blanket verdict when it could not be read."""

    parser: Protego | None
    allow_all: bool
    crawl_delay_s: float
    failure: FetchError | None = None  # why robots.txt could not be read, if it could not

    def allows(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, user_agent)


@dataclass(frozen=True)
class _Target:
    """A URL that passed the scheme, length and host checks."""

    url: str
    scheme: str
    host: str
    port: int

    @property
    def host_key(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass
class _Response:
    """What one hop returned: a final response or a redirect."""

    status: int
    headers: dict
    body: bytes = b""
    location: str | None = None


@dataclass(frozen=True)
class _Caps:
    """Size caps of one fetch; truncate=True cuts instead of failing (robots.txt only)."""

    raw: int
    decoded: int
    truncate: bool = False


@dataclass
class _Attempts:
    """Requests sent by one fetch, shared by its hops and retries."""

    count: int = 0


# --- the fetcher ----------------------------------------------------------------------------


class Fetcher:
    """Fetches untrusted URLs politely within FetchLimits; one instance may be shared by threads."""

    def __init__(self, limits: FetchLimits):
        self.limits = limits
        self._guard = AddressGuard(limits.allow_private_networks)
        self._pool = _make_pool_manager(limits, self._guard)
        self._hosts: dict[str, _HostState] = {}
        self._robots: dict[str, _RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def get(self, url: str, *, headers: dict | None = None, max_bytes: int | None = None) -> FetchResult:
        """GET a URL following redirects; 2xx and 304 are returned, everything else raises FetchError.

        ``max_bytes`` caps the raw body (default limits.max_body_bytes); the decoded body is capped at
        the larger of it and limits.max_decoded_bytes. ``attempts`` counts requests sent, retries
        included, redirect hops included.
        """
        raw_cap = self.limits.max_body_bytes if max_bytes is None else max_bytes
        caps = _Caps(raw=raw_cap, decoded=max(raw_cap, self.limits.max_decoded_bytes))
        return self._fetch(url, headers or {}, caps, check_robots=self.limits.respect_robots)

    def robots(self, url: str) -> tuple[bool, float]:
        """(allowed, crawl delay in seconds, capped) for url under its origin's robots.txt.

        Cached per scheme+host for the life of the fetcher. Raises FetchError only when the URL
        itself can never be fetched (bad scheme, too long, blocked address). With
        limits.respect_robots off it answers (True, 0.0) without a request.
        """
        if not self.limits.respect_robots:
            return True, 0.0
        target = self._check_url(url)
        rules = self._robots_rules(target)
        return rules.allows(target.url, self.limits.user_agent), rules.crawl_delay_s

    def close(self) -> None:
        """Close pooled connections."""
        self._pool.clear()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- one fetch, hop by hop --

    def _fetch(self, url: str, headers: dict, caps: _Caps, check_robots: bool) -> FetchResult:
        started = time.monotonic()
        attempts = _Attempts()
        try:
            with _Watchdog(started + self.limits.total_deadline_s) as watchdog:
                final_url, response = self._follow(url, headers, caps, check_robots, attempts, watchdog)
        except FetchError as err:
            err.attempts = attempts.count
            raise
        media_type, charset = parse_content_type(response.headers.get("content-type"))
        return FetchResult(
            url=url,
            final_url=final_url,
            status=response.status,
            headers=response.headers,
            body=response.body,
            attempts=attempts.count,
            elapsed_s=time.monotonic() - started,
            charset=charset,
            content_type=media_type,
        )

    def _follow(self, url, headers, caps, check_robots, attempts, watchdog) -> tuple[str, _Response]:
        current, seen = url, set()
        request_headers = self._base_headers(headers)
        for _ in range(self.limits.max_redirects + 1):
            target = self._check_url(current)
            seen.add(target.url)
            if check_robots:
                self._enforce_robots(target)
            response = self._request_with_retries(target, request_headers, caps, attempts, watchdog)
            if response.location is None:
                return target.url, response
            next_target = self._check_url(response.location)
            if next_target.url in seen:
                raise FetchError("too_many_redirects", f"redirect loop back to {next_target.url}")
            if next_target.origin != target.origin:
                request_headers = {k: v for k, v in request_headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
            current = next_target.url
        raise FetchError("too_many_redirects", f"more than {self.limits.max_redirects} redirects from {url}")

    def _enforce_robots(self, target: _Target) -> None:
        rules = self._robots_rules(target)
        if rules.allows(target.url, self.limits.user_agent):
            return
        failure = rules.failure
        if failure is None:
            raise FetchError("robots_disallowed", f"robots.txt disallows {target.url}")
        if failure.reason in _SAME_FATE_REASONS:
            # The page would fail the same way; report the real cause, not robots.
            raise FetchError(failure.reason, failure.message, status=failure.status)
        raise FetchError("robots_disallowed", f"robots.txt unreadable ({failure.reason})")

    def _base_headers(self, headers: dict) -> dict:
        merged = {"User-Agent": self.limits.user_agent}
        merged.update({k: v for k, v in headers.items() if k.lower() != "accept-encoding"})
        # Only the codings the decoder understands, so a body can never arrive undecodable.
        merged["Accept-Encoding"] = ACCEPT_ENCODING
        return merged

    def _check_url(self, url: str) -> _Target:
        url = url.strip()
        if len(url) > self.limits.max_url_length:
            raise FetchError("url_too_long", f"URL of {len(url)} characters")
        try:
            parsed = parse_url(url)
        except LocationParseError as err:
            raise FetchError("bad_url", str(err)) from err
        scheme = (parsed.scheme or "").lower()
        if scheme not in ("http", "https"):
            raise FetchError("bad_scheme", f"scheme {scheme or '(none)'!r} is not http(s)")
        if not parsed.host:
            raise FetchError("bad_url", f"no host in {url!r}")
        try:
            self._guard.check_host(parsed.host)
        except _BlockedAddress as err:
            raise FetchError("ssrf_blocked", str(err)) from err
        normalized = parsed._replace(scheme=scheme, fragment=None).url
        port = parsed.port or (443 if scheme == "https" else 80)
        return _Target(url=normalized, scheme=scheme, host=parsed.host.strip("[]").lower(), port=port)

    # -- retries --

    def _request_with_retries(self, target, headers, caps, attempts, watchdog) -> _Response:
        host = self._host(target.host_key)
        retries_done = 0
        while True:
            try:
                response = self._attempt(target, headers, caps, attempts, watchdog, host)
            except _NoSlot as slot:
                raise FetchError("timeout", str(slot)) from None
            except FetchError as err:
                delay = self._retry_delay(err, retries_done, watchdog)
                if delay is None:
                    self._record_failure(host, err)
                    raise
                log.debug("retrying %s in %.2fs after %s", target.url, delay, err.reason)
                time.sleep(delay)
                retries_done += 1
                continue
            with host.lock:
                host.failures = 0
            return response

    def _retry_delay(self, err: FetchError, retries_done: int, watchdog: _Watchdog) -> float | None:
        """Seconds to wait before retrying, or None to give up now."""
        if not (err.reason in ("data_loss", "http_429") or _HTTP_5XX.fullmatch(err.reason)):
            return None
        if retries_done >= self.limits.max_retries:
            return None
        if err.retry_after_s is not None:
            if err.retry_after_s > self.limits.max_retry_after_s:
                return None  # the host asked for more patience than one fetch has; a later run may retry
            delay = err.retry_after_s
        else:
            delay = self._backoff(retries_done)
        return delay if delay < watchdog.remaining() else None

    def _backoff(self, retries_done: int) -> float:
        ceiling = min(self.limits.backoff_cap_s, self.limits.backoff_base_s * 2**retries_done)
        # Half fixed, half random, so that workers that failed together do not retry together.
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def _record_failure(self, host: _HostState, err: FetchError) -> None:
        if err.reason in _HOST_FAILURE_REASONS or _HTTP_5XX.fullmatch(err.reason):
            with host.lock:
                host.failures += 1

    # -- one request --

    def _attempt(self, target, headers, caps, attempts, watchdog, host) -> _Response:
        self._wait_turn(target, host, watchdog)
        try:
            return self._send(target, headers, caps, attempts, watchdog)
        finally:
            # The gap also runs from the end of this request: spacing starts alone let a slow
            # response and a quick next one arrive at the host closer together than the gap.
            gap = max(self.limits.min_host_gap_s, host.crawl_delay_s)
            if gap > 0:
                with host.lock:
                    host.next_slot = max(host.next_slot, time.monotonic() + gap)

    def _send(self, target, headers, caps, attempts, watchdog) -> _Response:
        attempts.count += 1
        remaining = max(watchdog.remaining(), 0.001)  # urllib3 rejects a zero timeout
        timeout = urllib3.Timeout(
            connect=min(self.limits.connect_timeout_s, remaining), read=min(self.limits.read_timeout_s, remaining)
        )
        try:
            resp = self._pool.urlopen(
                "GET",
                target.url,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                decode_content=False,
                timeout=timeout,
            )
        except _BlockedAddress as err:
            raise FetchError("ssrf_blocked", str(err)) from err
        except (HTTPError, OSError) as err:
            raise self._transport_error(err, watchdog, in_body=False) from err
        finally:
            watchdog.detach()
        if watchdog.fired:
            # The watchdog's shutdown can look like a clean end of headers to http.client.
            self._release(resp)
            raise FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
        return self._handle_response(resp, target, caps, watchdog)

    def _wait_turn(self, target: _Target, host: _HostState, watchdog: _Watchdog) -> None:
        """Apply the circuit breaker, then sleep until this host's politeness slot."""
        gap = max(self.limits.min_host_gap_s, host.crawl_delay_s)
        with host.lock:
            if host.failures >= self.limits.circuit_breaker_failures:
                raise FetchError("host_unavailable", f"{target.host_key} failed {host.failures} times in a row")
            now = time.monotonic()
            start = max(now, host.next_slot)
            if start >= watchdog.deadline:
                raise _NoSlot(f"no politeness slot for {target.host_key} before the deadline")
            host.next_slot = start + gap
        if start > now:
            time.sleep(start - now)

    def _handle_response(self, resp, target: _Target, caps: _Caps, watchdog: _Watchdog) -> _Response:
        headers = {name.lower(): resp.headers[name] for name in resp.headers}
        status = resp.status
        try:
            if 200 <= status < 300:
                body = self._read_body(resp, headers, caps, watchdog)
                return _Response(status, headers, body)
            if status == 304:
                return _Response(status, headers)
            if status in REDIRECT_STATUSES and headers.get("location"):
                return _Response(status, headers, location=urljoin(target.url, headers["location"]))
            raise _status_error(status, headers)
        finally:
            self._release(resp)

    def _release(self, resp) -> None:
        # A body we did not read to the end would corrupt the next response on a reused connection.
        if not resp.isclosed():
            resp.close()
        resp.release_conn()

    def _read_body(self, resp, headers: dict, caps: _Caps, watchdog: _Watchdog) -> bytes:
        declared = _content_length(headers)
        if declared is not None and declared > caps.raw and not caps.truncate:
            raise FetchError("body_too_large", f"Content-Length {declared} > {caps.raw} bytes")
        decoder = _BodyDecoder(headers.get("content-encoding"), caps.decoded)
        try:
            self._stream_into(resp, decoder, caps, watchdog)
            return decoder.finish()
        except _Overflow:
            if caps.truncate:
                return decoder.partial()
            raise FetchError("body_too_large", f"decoded body > {caps.decoded} bytes") from None
        except _Truncated:
            raise FetchError("data_loss", "compressed body ended early") from None
        except (zlib.error, brotli.error) as err:
            raise FetchError("decode_error", f"corrupt compressed body: {err}") from err

    def _stream_into(self, resp, decoder: _BodyDecoder, caps: _Caps, watchdog: _Watchdog) -> None:
        raw_size = 0
        _attach_to_watchdog(resp.connection)
        try:
            while True:
                # read1 returns what one recv gave, so the deadline is checked while trickling.
                chunk = resp.read1(_CHUNK, decode_content=False)
                if watchdog.fired:
                    # An unframed body cut by the watchdog ends like a complete one; it is not.
                    raise FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
                if not chunk:
                    return
                raw_size += len(chunk)
                if raw_size > caps.raw:
                    if caps.truncate:
                        decoder.feed(chunk[: len(chunk) - (raw_size - caps.raw)])
                        raise _Overflow()
                    raise FetchError("body_too_large", f"body > {caps.raw} bytes")
                decoder.feed(chunk)
                if watchdog.expired():
                    raise FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
        except (HTTPError, OSError) as err:
            raise self._transport_error(err, watchdog, in_body=True) from err
        finally:
            watchdog.detach()

    def _transport_error(self, err: Exception, watchdog: _Watchdog, in_body: bool) -> FetchError:
        if watchdog.expired():
            return FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
        if isinstance(err, NameResolutionError):
            return FetchError("dns_error", str(err))
        if isinstance(err, SSLError):
            return FetchError("tls_error", str(err))
        if isinstance(err, ProxyError):
            return FetchError("connection_error", f"proxy: {err}")
        if isinstance(err, NewConnectionError):
            return FetchError("connection_error", str(err))
        if isinstance(err, ConnectTimeoutError):
            return FetchError("connect_timeout", str(err))
        if isinstance(err, ReadTimeoutError):
            return FetchError("read_timeout", str(err))
        if in_body:
            return FetchError("data_loss", f"body cut short: {err}")
        return FetchError("connection_error", str(err))

    # -- per-host state and robots.txt --

    def _host(self, key: str) -> _HostState:
        with self._registry_lock:
            return self._hosts.setdefault(key, _HostState())

    def _robots_rules(self, target: _Target) -> _RobotsRules:
        with self._registry_lock:
            lock = self._robots_locks.setdefault(target.origin, threading.Lock())
        # One download per origin even when several threads ask at once.
        with lock:
            rules = self._robots.get(target.origin)
            if rules is None:
                rules = self._load_robots(target.origin)
                self._robots[target.origin] = rules
                host = self._host(target.host_key)
                with host.lock:
                    host.crawl_delay_s = rules.crawl_delay_s
        return rules

    def _load_robots(self, origin: str) -> _RobotsRules:
        cap = self.limits.max_robots_bytes
        try:
            result = self._fetch(f"{origin}/robots.txt", {}, _Caps(cap, cap, truncate=True), check_robots=False)
        except FetchError as err:
            allow = _robots_missing(err)
            log.info("robots.txt of %s unreadable (%s): %s all", origin, err.reason, "allow" if allow else "disallow")
            return _RobotsRules(parser=None, allow_all=allow, crawl_delay_s=0.0, failure=None if allow else err)
        if result.status != 200:
            return _RobotsRules(parser=None, allow_all=True, crawl_delay_s=0.0)
        parser = Protego.parse(_robots_text(result.body, cap))
        delay = parser.crawl_delay(self.limits.user_agent) or 0.0
        delay = min(float(delay), self.limits.max_crawl_delay_s)
        return _RobotsRules(parser=parser, allow_all=True, crawl_delay_s=delay)


def _robots_missing(err: FetchError) -> bool:
    """True when robots.txt is absent (allow all), False when the host is failing (disallow all)."""
    if err.status is not None and 400 <= err.status < 500:
        # 429 means the host is overloaded, not that rules are absent (Google reads it as a 5xx).
        return err.status != 429
    # RFC 9309: too many redirects may be read as "unavailable", which allows all.
    return err.reason in ("too_many_redirects", "bad_scheme", "bad_url", "url_too_long", "body_too_large")


def _robots_text(body: bytes, cap: int) -> str:
    if len(body) >= cap:
        body = body[: body.rfind(b"\n") + 1]  # a cut line could turn "Disallow: /private" into "Disallow: /"
    return body.decode("utf-8", errors="replace").lstrip("\ufeff")


def _content_length(headers: dict) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value.split(",")[0].strip())
    except ValueError:
        return None


def _status_error(status: int, headers: dict) -> FetchError:
    retry_after = parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
    return FetchError(f"http_{status}", f"HTTP {status}", status=status, retry_after_s=retry_after)
