"""robots.txt: the rules of one origin, how a failed download is read, and the per-origin cache.

Policy (RFC 9309, as Google reads it): absent rules (a 4xx other than 429, too many redirects)
allow all; a failing host (5xx, 429, network errors) disallows all, but a page fetch then reports
the real cause when the page would fail the same way (``SAME_FATE_REASONS``). A robots.txt over
the cap is cut at its last whole line. The download itself is the caller's (the Fetcher's), so
this module opens no connection.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

from protego import Protego

from schemas.settings import FetchLimits
from transforms.fetch.errors import SAME_FATE_REASONS, FetchError, FetchResult

log = logging.getLogger(__name__)

# Origins whose unreadable robots.txt this process has logged already. Each Fetcher (the feed
# poller's and the page fetcher's) reads robots.txt itself; the log line is said once per origin.
_LOGGED_UNREADABLE: set[str] = set()
_LOGGED_LOCK = threading.Lock()


@dataclass(frozen=True)
class RobotsRules:
    """Parsed robots.txt of one origin, or a blanket verdict when it could not be read."""

    parser: Protego | None
    allow_all: bool
    crawl_delay_s: float
    failure: FetchError | None = None  # why robots.txt could not be read, if it could not

    def allows(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(url, user_agent)

    def enforce(self, url: str, user_agent: str) -> None:
        """Raise the FetchError a page fetch of url reports when these rules do not allow it."""
        if self.allows(url, user_agent):
            return
        failure = self.failure
        if failure is None:
            raise FetchError("robots_disallowed", f"robots.txt disallows {url}")
        if failure.reason in SAME_FATE_REASONS:
            # The page would fail the same way; report the real cause, not robots.
            raise FetchError(failure.reason, failure.message, status=failure.status)
        raise FetchError("robots_disallowed", f"robots.txt unreadable ({failure.reason})")


class RobotsCache:
    """The robots.txt rules of each origin, downloaded once for the life of the cache.

    ``download(url, cap)`` fetches robots.txt, cut at ``cap`` bytes rather than failing, without
    itself checking robots.txt; it returns the FetchResult or raises FetchError.
    """

    def __init__(self, limits: FetchLimits, download: Callable[[str, int], FetchResult]):
        self._limits = limits
        self._download = download
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._registry_lock = threading.Lock()

    def rules(self, origin: str, on_load: Callable[[RobotsRules], None] | None = None) -> RobotsRules:
        """The rules of origin ("scheme://host:port"); on_load runs once, when they are first read."""
        with self._registry_lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        # One download per origin even when several threads ask at once.
        with lock:
            rules = self._rules.get(origin)
            if rules is None:
                rules = self._load(origin)
                self._rules[origin] = rules
                if on_load is not None:
                    on_load(rules)
        return rules

    def _load(self, origin: str) -> RobotsRules:
        cap = self._limits.max_robots_bytes
        try:
            result = self._download(f"{origin}/robots.txt", cap)
        except FetchError as err:
            allow = robots_missing(err)
            _log_unreadable_once(origin, err, allow)
            return RobotsRules(parser=None, allow_all=allow, crawl_delay_s=0.0, failure=None if allow else err)
        if result.status != 200:
            return RobotsRules(parser=None, allow_all=True, crawl_delay_s=0.0)
        parser = Protego.parse(robots_text(result.body, cap))
        delay = parser.crawl_delay(self._limits.user_agent) or 0.0
        delay = min(float(delay), self._limits.max_crawl_delay_s)
        return RobotsRules(parser=parser, allow_all=True, crawl_delay_s=delay)


def _log_unreadable_once(origin: str, err: FetchError, allow: bool) -> None:
    with _LOGGED_LOCK:
        if origin in _LOGGED_UNREADABLE:
            return
        _LOGGED_UNREADABLE.add(origin)
    log.info("robots.txt of %s unreadable (%s): %s all", origin, err.reason, "allow" if allow else "disallow")


def robots_missing(err: FetchError) -> bool:
    """True when robots.txt is absent (allow all), False when the host is failing (disallow all)."""
    if err.status is not None and 400 <= err.status < 500:
        # 429 means the host is overloaded, not that rules are absent (Google reads it as a 5xx).
        return err.status != 429
    # RFC 9309: too many redirects may be read as "unavailable", which allows all.
    return err.reason in ("too_many_redirects", "bad_scheme", "bad_url", "url_too_long", "body_too_large")


def robots_text(body: bytes, cap: int) -> str:
    """robots.txt as text; a body at the cap loses its last, possibly cut, line."""
    if len(body) >= cap:
        body = body[: body.rfind(b"\n") + 1]  # a cut line could turn "Disallow: /private" into "Disallow: /"
    return body.decode("utf-8", errors="replace").lstrip("\ufeff")
