"""Poll one agency endpoint: conditional GET with headers from the environment, items to Drafts (no Beam).

A ninjs endpoint may answer one item, a JSON array or an object with an `items` / `data` array; a
NewsML-G2 endpoint a newsItem or a newsMessage. Header values are read from environment variables
at each request and sent as the fetcher's secrets (never to another origin); they are never
logged, stored in a row or put into a dead letter, which names only the variable.
"""
from __future__ import annotations

import os

from schemas.settings import Settings
from schemas.types import FeedSpec, FeedState
from transforms.deliveries.delivery import read_delivery
from transforms.feeds.outcome import (
    PollOutcome,
    conditional_headers,
    count,
    dead,
    failed_state,
    ok_state,
    unchanged_state,
)
from transforms.fetch.errors import FetchError


def secret_headers(spec: FeedSpec) -> dict:
    """{header: value} from the environment; raises KeyError naming the first variable that is unset."""
    out = {}
    for header, variable in spec.headers or ():
        value = os.environ.get(variable)
        if not value:
            raise KeyError(f"environment variable {variable} (header {header}) is not set")
        out[header] = value
    return out


def poll_endpoint(spec: FeedSpec, previous: FeedState | None, fetcher, settings: Settings, polled_at: str,
                  counts: dict) -> PollOutcome:
    """One conditional GET of an agency endpoint; its items become Drafts in the outcome's `items`."""
    count(counts, "feeds_polled")
    try:
        secrets = secret_headers(spec)
    except KeyError as err:
        letter = dead(counts, "missing_credentials", err.args[0], feed_url=spec.url)
        return PollOutcome((), failed_state(spec.url, previous, polled_at, 0), (letter,), counts)
    try:
        response = fetcher.get(spec.url, headers=conditional_headers(previous), secrets=secrets,
                               max_bytes=settings.sources.max_delivery_bytes)
    except FetchError as err:
        letter = dead(counts, err.reason, err.message, feed_url=spec.url, attempt=err.attempts or 1)
        return PollOutcome((), failed_state(spec.url, previous, polled_at, 0), (letter,), counts)
    if response.status == 304:
        count(counts, "feeds_unchanged")
        state = unchanged_state(spec.url, previous, polled_at)
        return PollOutcome((), state, (), counts)
    drafts, dead_letters = read_delivery(response.body, spec.format, spec.url, polled_at, settings, counts,
                                         agency_hint=spec.agency)
    if not drafts and dead_letters and all(d.url is None for d in dead_letters):
        # The answer as a whole could not be read: the endpoint failed this poll.
        return PollOutcome((), failed_state(spec.url, previous, polled_at, response.status),
                           tuple(dead_letters), counts)
    state = ok_state(spec.url, polled_at, response.status, response.headers.get("etag"),
                     response.headers.get("last-modified"), len(drafts))
    return PollOutcome((), state, tuple(dead_letters), counts, items=tuple(drafts))
