"""What one poll of a source gives back (PollOutcome), and the counted dead letters and states in it (no Beam)."""
from __future__ import annotations

import typing

from schemas.types import FeedState
from transforms.util.dead_letters import dead_letter

STAGE = "read_feeds"  # the counters' and dead letters' stage
STATE = "feed_state"  # the output (and table) of FeedState rows
ITEMS = "items"  # the output of Drafts that agency endpoints deliver (they skip fetch and extract)


class PollOutcome(typing.NamedTuple):
    entries: tuple  # FeedEntry rows
    state: FeedState  # every poll leaves one, failed or not
    dead: tuple  # DeadLetter rows (the feed's, or one entry's)
    counts: dict  # read_feeds counter name -> increment
    items: tuple = ()  # Draft rows of agency items an endpoint delivered (they skip fetch and extract)


def count(counts: dict, name: str, n: int = 1) -> None:
    counts[name] = counts.get(name, 0) + n


def dead(counts: dict, error_class: str, message: str, **kwargs):
    """A read_feeds dead letter, counted as emit_dead counts one."""
    count(counts, "dead_letters")
    count(counts, f"dead.{error_class}")
    return dead_letter(STAGE, error_class, message, **kwargs)


def ok_state(url, polled_at, status, etag, last_modified, entries) -> FeedState:
    return FeedState(feed_url=url, etag=etag, last_modified=last_modified, last_polled_at=polled_at,
                     last_status=status, consecutive_failures=0, entries_seen=entries)


def unchanged_state(url, previous, polled_at) -> FeedState:
    """The state after a 304: the previous validators and entry count, failures reset."""
    return ok_state(url, polled_at, 304, previous.etag if previous else None,
                    previous.last_modified if previous else None, previous.entries_seen if previous else 0)


def failed_state(url, previous, polled_at, status) -> FeedState:
    return FeedState(
        feed_url=url,
        etag=previous.etag if previous else None,
        last_modified=previous.last_modified if previous else None,
        last_polled_at=polled_at,
        last_status=status,
        consecutive_failures=(previous.consecutive_failures or 0) + 1 if previous else 1,
        entries_seen=previous.entries_seen if previous else 0,
    )


def conditional_headers(previous: FeedState | None) -> dict:
    """If-None-Match / If-Modified-Since from the last poll's state."""
    headers = {}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    return headers
