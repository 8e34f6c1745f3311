"""The Fetcher: GET untrusted URLs hop by hop, with retries, politeness slots and a circuit breaker per host.

Plain Python; the Beam DoFns in :mod:`transforms.fetch.stage` wrap it. Every limit comes from
:class:`schemas.settings.FetchLimits`. Its parts live beside it: what a failure is called
(:mod:`.errors`), where a request may go (:mod:`.ssrf`), the total deadline (:mod:`.watchdog`),
bounded body decoding (:mod:`.body`) and robots.txt (:mod:`.robots`).
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError

from schemas.settings import FetchLimits
from transforms.fetch.body import CHUNK, DECODE_ERRORS, BodyDecoder, Overflow, Truncated
from transforms.fetch.errors import (
    HOST_FAILURE_REASONS,
    HTTP_5XX,
    REDIRECT_STATUSES,
    FetchError,
    FetchResult,
    parse_content_length,
    parse_content_type,
    status_error,
    transport_error,
)
from transforms.fetch.robots import RobotsCache, RobotsRules
from transforms.fetch.ssrf import AddressGuard, BlockedAddress, Target, check_url, make_pool_manager
from transforms.fetch.watchdog import Watchdog, attach_to_watchdog

log = logging.getLogger(__name__)

ACCEPT_ENCODING = "gzip, deflate, br"
# Headers that must not follow a redirect to another origin.
_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class _NoSlot(Exception):
    """The host's politeness queue reaches past this fetch's deadline; the host did nothing wrong."""


# --- per-host state -------------------------------------------------------------------------


@dataclass
class _HostState:
    """Politeness slot, in-flight request and circuit breaker of one host."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # Held while a request to the host is on the wire: one at a time per host, whoever calls.
    busy: threading.Lock = field(default_factory=threading.Lock)
    next_slot: float = 0.0
    failures: int = 0
    crawl_delay_s: float = 0.0


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
        self._pool = make_pool_manager(limits, self._guard)
        self._hosts: dict[str, _HostState] = {}
        self._robots = RobotsCache(limits, self._download_robots)
        self._registry_lock = threading.Lock()

    def get(self, url: str, *, headers: dict | None = None, max_bytes: int | None = None,
            secrets: dict | None = None) -> FetchResult:
        """GET a URL following redirects; 2xx and 304 are returned, everything else raises FetchError.

        ``max_bytes`` caps the raw body (default limits.max_body_bytes); the decoded body is capped at
        the larger of it and limits.max_decoded_bytes. ``attempts`` counts requests sent, retries
        included, redirect hops included. ``secrets`` are headers sent like ``headers`` but, like
        Authorization, never to another origin after a redirect (an agency API key).
        """
        raw_cap = self.limits.max_body_bytes if max_bytes is None else max_bytes
        caps = _Caps(raw=raw_cap, decoded=max(raw_cap, self.limits.max_decoded_bytes))
        merged = {**(headers or {}), **(secrets or {})}
        return self._fetch(url, merged, caps, check_robots=self.limits.respect_robots,
                           secret_names=frozenset(k.lower() for k in secrets or ()))

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

    def _fetch(self, url: str, headers: dict, caps: _Caps, check_robots: bool,
               secret_names: frozenset = frozenset()) -> FetchResult:
        started = time.monotonic()
        attempts = _Attempts()
        try:
            with Watchdog(started + self.limits.total_deadline_s) as watchdog:
                final_url, response = self._follow(url, headers, caps, check_robots, attempts, watchdog,
                                                   secret_names)
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

    def _follow(self, url, headers, caps, check_robots, attempts, watchdog,
                secret_names=frozenset()) -> tuple[str, _Response]:
        current, seen = url, set()
        request_headers = self._base_headers(headers)
        for _ in range(self.limits.max_redirects + 1):
            target = self._check_url(current)
            seen.add(target.url)
            if check_robots:
                self._robots_rules(target).enforce(target.url, self.limits.user_agent)
            response = self._request_with_retries(target, request_headers, caps, attempts, watchdog)
            if response.location is None:
                return target.url, response
            next_target = self._check_url(response.location)
            if next_target.url in seen:
                raise FetchError("too_many_redirects", f"redirect loop back to {next_target.url}")
            if next_target.origin != target.origin:
                request_headers = {k: v for k, v in request_headers.items()
                                   if k.lower() not in _CREDENTIAL_HEADERS and k.lower() not in secret_names}
            current = next_target.url
        raise FetchError("too_many_redirects", f"more than {self.limits.max_redirects} redirects from {url}")

    def _base_headers(self, headers: dict) -> dict:
        merged = {"User-Agent": self.limits.user_agent}
        merged.update({k: v for k, v in headers.items() if k.lower() != "accept-encoding"})
        # Only the codings the decoder understands, so a body can never arrive undecodable.
        merged["Accept-Encoding"] = ACCEPT_ENCODING
        return merged

    def _check_url(self, url: str) -> Target:
        return check_url(url, self._guard, self.limits.max_url_length)

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

    def _retry_delay(self, err: FetchError, retries_done: int, watchdog: Watchdog) -> float | None:
        """Seconds to wait before retrying, or None to give up now."""
        if not (err.reason in ("data_loss", "http_429") or HTTP_5XX.fullmatch(err.reason)):
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
        if err.reason in HOST_FAILURE_REASONS or HTTP_5XX.fullmatch(err.reason):
            with host.lock:
                host.failures += 1

    # -- one request --

    def _attempt(self, target, headers, caps, attempts, watchdog, host) -> _Response:
        # One request in flight per host: the Dataflow poll source runs each feed as its own
        # element, so two feeds of one host can be due at once in two threads
        # (benchmarks/internet_scale.py --no-host-rule saw two in flight and gaps cut to 10 ms).
        if not host.busy.acquire(timeout=max(0.0, watchdog.remaining())):
            raise _NoSlot(f"{target.host_key} stayed busy past the deadline")
        try:
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
        finally:
            host.busy.release()

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
        except BlockedAddress as err:
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

    def _wait_turn(self, target: Target, host: _HostState, watchdog: Watchdog) -> None:
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

    def _handle_response(self, resp, target: Target, caps: _Caps, watchdog: Watchdog) -> _Response:
        headers = {name.lower(): resp.headers[name] for name in resp.headers}
        status = resp.status
        try:
            if 200 <= status < 300:
                body = self._read_body(resp, headers, caps, watchdog)
                return _Response(status, headers, body)
            if status == 304:
                # A 304 has no body; reading its nothing lets the connection go back to the pool
                # (closing an unread response closes the connection, and every poll reconnected).
                resp.read(decode_content=False)
                return _Response(status, headers)
            if status in REDIRECT_STATUSES and headers.get("location"):
                return _Response(status, headers, location=urljoin(target.url, headers["location"]))
            raise status_error(status, headers)
        finally:
            self._release(resp)

    def _release(self, resp) -> None:
        # A body we did not read to the end would corrupt the next response on a reused connection.
        if not resp.isclosed():
            resp.close()
        resp.release_conn()

    def _read_body(self, resp, headers: dict, caps: _Caps, watchdog: Watchdog) -> bytes:
        declared = parse_content_length(headers)
        if declared is not None and declared > caps.raw and not caps.truncate:
            raise FetchError("body_too_large", f"Content-Length {declared} > {caps.raw} bytes")
        decoder = BodyDecoder(headers.get("content-encoding"), caps.decoded, self.limits.max_content_codings)
        try:
            self._stream_into(resp, decoder, caps, watchdog)
            return decoder.finish()
        except Overflow:
            if caps.truncate:
                return decoder.partial()
            raise FetchError("body_too_large", f"decoded body > {caps.decoded} bytes") from None
        except Truncated:
            raise FetchError("data_loss", "compressed body ended early") from None
        except DECODE_ERRORS as err:
            raise FetchError("decode_error", f"corrupt compressed body: {err}") from err

    def _stream_into(self, resp, decoder: BodyDecoder, caps: _Caps, watchdog: Watchdog) -> None:
        raw_size = 0
        attach_to_watchdog(resp.connection)
        try:
            while True:
                # read1 returns what one recv gave, so the deadline is checked while trickling.
                chunk = resp.read1(CHUNK, decode_content=False)
                if watchdog.fired:
                    # An unframed body cut by the watchdog ends like a complete one; it is not.
                    raise FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
                if not chunk:
                    return
                raw_size += len(chunk)
                if raw_size > caps.raw:
                    if caps.truncate:
                        decoder.feed(chunk[: len(chunk) - (raw_size - caps.raw)])
                        raise Overflow()
                    raise FetchError("body_too_large", f"body > {caps.raw} bytes")
                decoder.feed(chunk)
                if watchdog.expired():
                    raise FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
        except (HTTPError, OSError) as err:
            raise self._transport_error(err, watchdog, in_body=True) from err
        finally:
            watchdog.detach()

    def _transport_error(self, err: Exception, watchdog: Watchdog, in_body: bool) -> FetchError:
        if watchdog.expired():
            return FetchError("timeout", f"total deadline of {self.limits.total_deadline_s}s passed")
        return transport_error(err, in_body)

    # -- per-host state and robots.txt --

    def _host(self, key: str) -> _HostState:
        with self._registry_lock:
            return self._hosts.setdefault(key, _HostState())

    def _robots_rules(self, target: Target) -> RobotsRules:
        def adopt_crawl_delay(rules: RobotsRules) -> None:
            host = self._host(target.host_key)
            with host.lock:
                host.crawl_delay_s = rules.crawl_delay_s

        return self._robots.rules(target.origin, on_load=adopt_crawl_delay)

    def _download_robots(self, url: str, cap: int) -> FetchResult:
        return self._fetch(url, {}, _Caps(cap, cap, truncate=True), check_robots=False)
