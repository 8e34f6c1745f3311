"""What a fetch returns or fails with, the reason sets the fetcher's policies read, and header/host parsing.

Pure Python, no Beam, no I/O: everything here can be unit-tested without a server.
"""
from __future__ import annotations

import email.utils
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timezone

from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from schemas.errors import Failure

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Failures that count towards a host's circuit breaker (the host, not the URL, misbehaved).
HOST_FAILURE_REASONS = frozenset(
    {"timeout", "connect_timeout", "read_timeout", "connection_error", "data_loss", "http_429", "dns_error",
     "tls_error"}
)
# robots.txt failures the page itself would hit too: the page fetch reports these, not robots_disallowed.
# A host that cannot be reached at all is down, not "disallowing": calling it a robots skip would hide it.
SAME_FATE_REASONS = frozenset({"ssrf_blocked", "dns_error", "tls_error", "host_unavailable", "connection_error",
                               "connect_timeout"})
HTTP_5XX = re.compile(r"http_5\d\d")


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


def status_error(status: int, headers: dict) -> FetchError:
    """The FetchError of a final non-2xx, non-304, non-redirect response (headers lower-cased)."""
    retry_after = parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
    return FetchError(f"http_{status}", f"HTTP {status}", status=status, retry_after_s=retry_after)


def transport_error(err: Exception, in_body: bool) -> FetchError:
    """The FetchError of a urllib3 or socket error; in_body: it struck while the body was being read."""
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


def parse_content_length(headers: dict) -> int | None:
    """The declared Content-Length (first of a repeated list), or None when absent or junk."""
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value.split(",")[0].strip())
    except ValueError:
        return None
