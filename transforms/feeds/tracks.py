"""A feed's poll state across polls (`FeedTrack`) and the adaptive interval, in plain Python.

`new_track` resumes a feed from its stored feed_state row; `poll_track` applies one poll's
PollOutcome to the track (entries it emitted before dropped, interval and next due time moved)
and returns what to emit. A FeedTrack rides pickled in the SDF's restriction, so its module path
is part of a running stream's checkpoints (transforms/poll_feeds.py keeps the old one).
See ARCHITECTURE.md "Streaming".
"""
from __future__ import annotations

import dataclasses
import typing

from schemas.settings import Settings
from schemas.types import FeedSpec, FeedState
from transforms.feeds.poll import PollOutcome
from transforms.util.times import parse_iso

TICKS = "ticks"  # the (feed url, poll number) item every loop adds after a poll


class SeenIds:
    """The entry ids of a feed's latest listing, in order, kept as one string.

    An OrderedDict of 20 ids and their times took 3.5 KB per feed (benchmarks/internet_scale.py);
    one joined string takes 34 bytes an id. Tracks pickled before this class held an OrderedDict,
    and `poll_track` reads either.
    """

    __slots__ = ("_joined",)
    _SEP = "\x1f"  # entry ids are hex digests; never in one

    def __init__(self, ids=()):
        self._joined = self._SEP.join(ids)

    def __iter__(self):
        return iter(self._joined.split(self._SEP) if self._joined else ())

    def __len__(self) -> int:
        return self._joined.count(self._SEP) + 1 if self._joined else 0

    def __contains__(self, entry_id) -> bool:
        return entry_id in set(self)

    def __setitem__(self, entry_id: str, _when) -> None:
        """Remember one more id (the mapping form older tracks used; the time is not kept)."""
        self._joined = f"{self._joined}{self._SEP}{entry_id}" if self._joined else entry_id

    def __getstate__(self):
        return self._joined

    def __setstate__(self, joined):
        self._joined = joined


@dataclasses.dataclass
class FeedTrack:
    spec: FeedSpec
    state: typing.Optional[FeedState]
    base_s: float
    interval_s: float
    next_due: float
    polls: int = 0
    seen: SeenIds = dataclasses.field(default_factory=SeenIds)  # an OrderedDict in tracks pickled before


def interval_bounds(base_s: float, settings: Settings) -> tuple:
    """(fastest, slowest) interval for a feed configured at base_s."""
    s = settings.stream
    low = min(base_s, max(s.min_poll_interval_s, base_s / 4))
    high = max(base_s, min(s.max_poll_interval_s, base_s * 8))
    return low, high


def next_interval(track: FeedTrack, outcome: str, new_entries: int, failures: int, settings: Settings) -> float:
    """Back off on quiet or failing feeds, speed up on busy ones, within interval_bounds."""
    s = settings.stream
    low, high = interval_bounds(track.base_s, settings)
    if outcome == "failed":
        value = track.base_s * s.failure_backoff_base ** max(1, failures)
    elif outcome == "unchanged" or new_entries == 0:
        value = track.interval_s * s.adapt_factor
    else:
        value = track.interval_s / s.adapt_factor
    return min(high, max(low, value))


def new_track(spec, state: FeedState | None, settings: Settings, poll_interval_s=None, now: float = 0.0) -> FeedTrack:
    """A feed's poll state at the start of a run, resumed from its feed_state row if it has one."""
    base = poll_interval_s or spec.poll_interval_s or settings.stream.default_poll_interval_s
    track = FeedTrack(spec, state, base, base, now)
    if state is not None:
        failures = state.consecutive_failures or 0
        if failures:
            track.interval_s = next_interval(track, "failed", 0, failures, settings)
        last = parse_iso(state.last_polled_at) if isinstance(state.last_polled_at, str) else None
        if last is not None:
            # A restart resumes politely: a feed polled a minute ago waits out its interval.
            track.next_due = min(now + track.interval_s, max(now, last.timestamp() + track.interval_s))
    return track


def _item_key(draft) -> str:
    # Not SeenIds' separator: an endpoint item's id sits among entry ids in one joined string.
    return "item:" + draft.article.article_id


def copy_track(track: FeedTrack) -> FeedTrack:
    return dataclasses.replace(track, seen=SeenIds(track.seen))


def poll_track(track: FeedTrack, outcome: PollOutcome, settings: Settings, now: float) -> PollOutcome:
    """Apply one poll of the track's feed (polled at now) to the track; returns what to emit.

    Entry ids the feed listed at an earlier poll are dropped (counted as skip.seen_entry); the
    track's state, interval, next due time and entry ids seen (those of the feed's latest listing)
    are updated in place.
    """
    previous = track.state
    counts = dict(outcome.counts)
    fresh = []
    known = set(track.seen)
    for entry in outcome.entries:
        if entry.entry_id in known:
            # Listed again by the feed; emitted at an earlier poll.
            counts["skipped"] = counts.get("skipped", 0) + 1
            counts["skip.seen_entry"] = counts.get("skip.seen_entry", 0) + 1
            continue
        known.add(entry.entry_id)
        fresh.append(entry)
    items = []
    for draft in outcome.items:
        # An endpoint lists its latest items at every poll: each is emitted once, like an entry.
        key = _item_key(draft)
        if key in known:
            counts["skipped"] = counts.get("skipped", 0) + 1
            counts["skip.seen_entry"] = counts.get("skip.seen_entry", 0) + 1
            continue
        known.add(key)
        items.append(draft)
    if outcome.entries or outcome.items:
        # Only ids the feed still lists can come back as repeats; one that drops off and returns
        # later is dropped downstream (KeepFirstLink, Drop Known Entries). Keeping every id ever
        # listed grew a busy feed's track, and the SDF restriction it rides in, to 200 KB.
        listed = dict.fromkeys([entry.entry_id for entry in outcome.entries] + [_item_key(d) for d in outcome.items])
        track.seen = SeenIds(list(listed)[: settings.stream.max_seen_per_feed])
    elif not isinstance(track.seen, SeenIds):
        track.seen = SeenIds(track.seen)  # a track pickled before SeenIds
    counts["new_entries"] = counts.get("new_entries", 0) + len(fresh) + len(items)
    state = outcome.state
    failures = state.consecutive_failures or 0
    result = "failed" if failures else ("unchanged" if state.last_status == 304 else "changed")
    if state.last_status == 304 and previous is not None:
        # A 304 carries no entry count; keep the last one.
        state = state._replace(entries_seen=previous.entries_seen)
    track.interval_s = next_interval(track, result, len(fresh) + len(items), failures, settings)
    track.state = state
    track.polls += 1
    track.next_due = now + track.interval_s
    return outcome._replace(entries=tuple(fresh), items=tuple(items), state=state, counts=counts)


def poll_items(outcome: PollOutcome) -> list:
    """The outcome as the loops' (kind, value) items: kind entry | item | dead | state."""
    return ([("entry", e) for e in outcome.entries] + [("item", d) for d in outcome.items]
            + [("dead", d) for d in outcome.dead]
            + [("state", outcome.state)])
