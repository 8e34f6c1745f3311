"""Where a fetch may connect (the SSRF guard), and the urllib3 connection classes that enforce it.

A name is resolved once, every address it resolves to is checked, and the socket connects to one
of those checked addresses: DNS rebinding between the check and the connect cannot swap it. The
Host header and TLS verification still use the URL's name. Behind a configured proxy the proxy
resolves names, so only literal addresses and local names are refused (:meth:`AddressGuard.check_host`).
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NameResolutionError, NewConnectionError
from urllib3.util import parse_url

# Private urllib3 API (_DEFAULT_TIMEOUT, _new_conn, _dns_host): upgrading urllib3 requires running tests/hostile.
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from schemas.settings import FetchLimits
from transforms.fetch.errors import FetchError, parse_ip_literal
from transforms.fetch.watchdog import attach_to_watchdog

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


class BlockedAddress(Exception):
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
            raise BlockedAddress(f"host {host!r} is a local or metadata name")
        ip = parse_ip_literal(name)
        if ip is not None and not is_public_address(ip):
            raise BlockedAddress(f"address {ip} is not public")

    def resolve(self, host: str, port: int) -> list[tuple]:
        """Resolve once and validate every address; the caller connects only to these."""
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not self.allow_private:
            for info in infos:
                ip = ipaddress.ip_address(info[4][0].split("%")[0])
                if not is_public_address(ip):
                    raise BlockedAddress(f"{host} resolves to non-public address {ip}")
        return infos


@dataclass(frozen=True)
class Target:
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


def check_url(url: str, guard: AddressGuard, max_length: int) -> Target:
    """The URL as a Target, or a FetchError when it may never be fetched (before any connection)."""
    url = url.strip()
    if len(url) > max_length:
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
        guard.check_host(parsed.host)
    except BlockedAddress as err:
        raise FetchError("ssrf_blocked", str(err)) from err
    normalized = parsed._replace(scheme=scheme, fragment=None).url
    port = parsed.port or (443 if scheme == "https" else 80)
    return Target(url=normalized, scheme=scheme, host=parsed.host.strip("[]").lower(), port=port)


# --- connections ----------------------------------------------------------------------------


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
        attach_to_watchdog(self)
        super().connect()

    def request(self, *args, **kwargs):
        attach_to_watchdog(self)
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


def make_pool_manager(limits: FetchLimits, guard: AddressGuard) -> urllib3.PoolManager:
    """A pool manager whose connections obey guard (or, behind limits.proxy, let the proxy resolve names)."""
    options = {"num_pools": 64, "maxsize": 4, "block": False}
    if limits.proxy:
        manager = urllib3.ProxyManager(limits.proxy, **options)
        manager.pool_classes_by_scheme = _pool_classes(None)
    else:
        manager = urllib3.PoolManager(**options)
        manager.pool_classes_by_scheme = _pool_classes(guard)
    return manager
