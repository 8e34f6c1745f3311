"""Poll one source: conditional GET, parse, FeedEntry rows, a FeedState row, dead letters (no Beam).

`poll_feed` is the only "poll a feed" code; sitemaps (sitemap_poll.py) and agency endpoints
(deliveries/endpoint.py) are polled through it too, by kind. The batch DoFn (stage.py), the Dataflow SDF
(beam_poll.py) and FeedPoller (poller.py) call it with their own Fetcher and turn its
PollOutcome into their outputs; `counts` holds the read_feeds counters the caller adds. It never
raises: an unexpected error is that feed's dead letter and failed state. See ARCHITECTURE.md.
"""
from __future__ import annotations

from schemas.settings import Settings
from schemas.types import FeedEntry, FeedSpec, FeedState
from transforms.deliveries.endpoint import poll_endpoint
from transforms.deliveries.folder import poll_folder
from transforms.feeds.outcome import ITEMS, STAGE, STATE, PollOutcome, conditional_headers  # noqa: F401 - re-exported
from transforms.feeds.outcome import count as _count
from transforms.feeds.outcome import dead as _dead
from transforms.feeds.outcome import failed_state as _failed_state
from transforms.feeds.outcome import ok_state as _ok_state
from transforms.feeds.outcome import unchanged_state as _unchanged_state
from transforms.feeds.parsing import NotAFeed, parse_feed
from transforms.feeds.sitemap_poll import poll_sitemaps
from transforms.feeds.urls import BadLink, check_link
from transforms.fetch.errors import FetchError
from transforms.util.ids import stable_id
from transforms.util.times import iso, utc_now

# What polls each kind of source (FeedSpec.kind); feeds are polled here. Folders are polled only by
# the local live stream; other runs read them with fileio (deliveries/stage.py).
_POLLERS = {"sitemap": poll_sitemaps, "site": poll_sitemaps, "endpoint": poll_endpoint, "folder": poll_folder}


def poll_feed(spec: FeedSpec, previous: FeedState | None, fetcher, settings: Settings,
              polled_at: str | None = None) -> PollOutcome:
    """One conditional GET of spec's feed (If-None-Match / If-Modified-Since from previous); 304 is unchanged."""
    polled_at = polled_at or iso(utc_now())
    counts: dict = {}
    try:
        poll = _POLLERS.get(spec.kind, _poll)
        return poll(spec, previous, fetcher, settings, polled_at, counts)
    except Exception as err:  # noqa: BLE001 - one poison feed must not take other feeds with it
        dead = _dead(counts, "unexpected_error", f"{type(err).__name__}: {err}", feed_url=spec.url)
        return PollOutcome((), _failed_state(spec.url, previous, polled_at, 0), (dead,), counts)


def _poll(spec, previous, fetcher, settings: Settings, polled_at: str, counts: dict) -> PollOutcome:
    _count(counts, "feeds_polled")
    headers = conditional_headers(previous)
    try:
        response = fetcher.get(spec.url, headers=headers, max_bytes=settings.fetch.max_feed_bytes)
    except FetchError as err:
        dead = _dead(counts, err.reason, err.message, feed_url=spec.url, attempt=err.attempts)
        return PollOutcome((), _failed_state(spec.url, previous, polled_at, 0), (dead,), counts)
    if response.status == 304:
        _count(counts, "feeds_unchanged")
        state = _unchanged_state(spec.url, previous, polled_at)
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
        source_kind="feed",
    )
