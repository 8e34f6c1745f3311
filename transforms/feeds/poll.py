"""Poll one feed: conditional GET, parse, FeedEntry rows, a FeedState row, dead letters (no Beam).

`poll_feed` is the only "poll a feed" code. The batch DoFn (stage.py), the Dataflow SDF
(beam_poll.py) and FeedPoller (poller.py) call it with their own Fetcher and turn its
PollOutcome into their outputs; `counts` holds the read_feeds counters the caller adds. It never
raises: an unexpected error is that feed's dead letter and failed state. See ARCHITECTURE.md.
"""
from __future__ import annotations

import typing

from schemas.settings import Settings
from schemas.types import FeedEntry, FeedSpec, FeedState
from transforms.feeds.parsing import NotAFeed, parse_feed
from transforms.feeds.urls import BadLink, check_link
from transforms.fetch.errors import FetchError
from transforms.util.dead_letters import dead_letter
from transforms.util.ids import stable_id
from transforms.util.times import iso, utc_now

STAGE = "read_feeds"  # the counters' and dead letters' stage
STATE = "feed_state"  # the output (and table) of FeedState rows


class PollOutcome(typing.NamedTuple):
    entries: tuple  # FeedEntry rows
    state: FeedState  # every poll leaves one, failed or not
    dead: tuple  # DeadLetter rows (the feed's, or one entry's)
    counts: dict  # read_feeds counter name -> increment


def poll_feed(spec: FeedSpec, previous: FeedState | None, fetcher, settings: Settings,
              polled_at: str | None = None) -> PollOutcome:
    """One conditional GET of spec's feed (If-None-Match / If-Modified-Since from previous); 304 is unchanged."""
    polled_at = polled_at or iso(utc_now())
    counts: dict = {}
    try:
        return _poll(spec, previous, fetcher, settings, polled_at, counts)
    except Exception as err:  # noqa: BLE001 - one poison feed must not take other feeds with it
        dead = _dead(counts, "unexpected_error", f"{type(err).__name__}: {err}", feed_url=spec.url)
        return PollOutcome((), _failed_state(spec.url, previous, polled_at, 0), (dead,), counts)


def _poll(spec, previous, fetcher, settings: Settings, polled_at: str, counts: dict) -> PollOutcome:
    _count(counts, "feeds_polled")
    headers = {}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    try:
        response = fetcher.get(spec.url, headers=headers, max_bytes=settings.fetch.max_feed_bytes)
    except FetchError as err:
        dead = _dead(counts, err.reason, err.message, feed_url=spec.url, attempt=err.attempts)
        return PollOutcome((), _failed_state(spec.url, previous, polled_at, 0), (dead,), counts)
    if response.status == 304:
        _count(counts, "feeds_unchanged")
        state = _ok_state(spec.url, polled_at, 304, previous.etag if previous else None,
                          previous.last_modified if previous else None, previous.entries_seen if previous else 0)
        return PollOutcome((), state, (), counts)
    try:
        feed = parse_feed(response.body, response.headers, base_url=response.final_url)
    except NotAFeed as err:
        dead = _dead(counts, err.reason, err.message, feed_url=spec.url, payload=response.body, attempt=response.attempts)
        return PollOutcome((), _failed_state(spec.url, previous, polled_at, response.status), (dead,), counts)
    if feed["salvaged"]:
        _count(counts, "feeds_salvaged")
    entries, dead = [], []
    if not feed["entries"]:
        dead.append(_dead(counts, "empty_feed", f"the feed ({feed['format']}) lists no entries",
                          feed_url=spec.url, payload=response.body, attempt=response.attempts))
    state = _ok_state(spec.url, polled_at, response.status, response.headers.get("etag"),
                      response.headers.get("last-modified"), len(feed["entries"]))
    for index, raw in enumerate(feed["entries"]):
        _count(counts, "entries")
        try:
            result = _entry(spec, feed, raw, response.final_url, polled_at, index, settings, counts)
        except Exception as err:  # one odd entry must not take its feed's other entries with it
            _count(counts, "entries_invalid")
            result = _dead(counts, "unexpected_error", f"{type(err).__name__}: {err}", feed_url=spec.url,
                           payload=repr(raw), key=f"entry {index}")
        (entries if isinstance(result, FeedEntry) else dead).append(result)
    return PollOutcome(tuple(entries), state, tuple(dead), counts)


def _entry(spec, feed, raw, base_url, polled_at, index, settings: Settings, counts: dict):
    entry_key = raw.get("guid") or raw.get("link") or repr(sorted(raw.items()))
    try:
        link = check_link(raw.get("link"), base_url, settings.fetch.max_url_length)
    except BadLink as err:
        _count(counts, "entries_invalid")
        # Keyed by position too: two link-less entries of one feed are two dead letters, not one.
        return _dead(counts, err.reason, err.message, url=(raw.get("link") or None), feed_url=spec.url,
                     payload=repr(raw), key=f"{entry_key}\x1f{index}")
    return FeedEntry(
        entry_id=stable_id(spec.url, entry_key),
        feed_url=spec.url,
        feed_name=spec.name or feed.get("title"),
        agency_hint=spec.agency,
        url=link,
        guid=raw.get("guid"),
        title=raw.get("title"),
        summary=raw.get("summary"),
        published_at=raw.get("published_at"),
        authors=list(raw.get("authors") or []),
        categories=list(raw.get("categories") or []),
        polled_at=polled_at,
    )


def _count(counts: dict, name: str, n: int = 1) -> None:
    counts[name] = counts.get(name, 0) + n


def _dead(counts: dict, error_class: str, message: str, **kwargs):
    """A read_feeds dead letter, counted as emit_dead counts one."""
    _count(counts, "dead_letters")
    _count(counts, f"dead.{error_class}")
    return dead_letter(STAGE, error_class, message, **kwargs)


def _ok_state(url, polled_at, status, etag, last_modified, entries) -> FeedState:
    return FeedState(feed_url=url, etag=etag, last_modified=last_modified, last_polled_at=polled_at,
                     last_status=status, consecutive_failures=0, entries_seen=entries)


def _failed_state(url, previous, polled_at, status) -> FeedState:
    return FeedState(
        feed_url=url,
        etag=previous.etag if previous else None,
        last_modified=previous.last_modified if previous else None,
        last_polled_at=polled_at,
        last_status=status,
        consecutive_failures=(previous.consecutive_failures or 0) + 1 if previous else 1,
        entries_seen=previous.entries_seen if previous else 0,
    )
