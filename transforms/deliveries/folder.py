"""Poll one local drop folder for the local live stream: files new since the last poll, read as deliveries (no Beam).

Beam's local streaming runner cannot run `fileio.MatchContinuously` (a splittable DoFn), so the
local live stream polls drop folders beside the feeds, with the same PollOutcome; Dataflow and
the FnApiRunner watch folders with fileio (deliveries/stage.py). Files modified at or before the
last successful poll were read then; items seen before are dropped by the feed track, like entries.
"""
from __future__ import annotations

import os

from schemas.settings import Settings
from schemas.types import FeedSpec, FeedState
from transforms.deliveries.delivery import read_delivery
from transforms.feeds.outcome import PollOutcome, count, dead, failed_state, ok_state
from transforms.util.times import ts_of


def poll_folder(spec: FeedSpec, previous: FeedState | None, fetcher, settings: Settings, polled_at: str,
                counts: dict) -> PollOutcome:
    """One look at a local folder; every file changed since the last poll is one delivery."""
    count(counts, "feeds_polled")
    if "://" in spec.url:
        letter = dead(counts, "folder_not_local", "the local stream watches local folders only; gs:// folders are "
                      "watched on Dataflow (fileio)", feed_url=spec.url)
        return PollOutcome((), failed_state(spec.url, previous, polled_at, 0), (letter,), counts)
    cutoff = ts_of(previous.last_polled_at) if previous is not None and not previous.consecutive_failures else None
    try:
        files = sorted((e for e in os.scandir(spec.url) if e.is_file()), key=lambda e: e.name)
    except OSError as err:
        letter = dead(counts, "folder_unreadable", f"cannot list {spec.url}: {err.strerror or err}", feed_url=spec.url)
        return PollOutcome((), failed_state(spec.url, previous, polled_at, 0), (letter,), counts)
    drafts, dead_letters = [], []
    limit = settings.sources.max_delivery_bytes
    for entry in files:
        info = entry.stat()
        if cutoff is not None and info.st_mtime <= cutoff:
            continue
        if info.st_size > limit:
            dead_letters.append(dead(counts, "too_large", f"a file of {info.st_size} bytes, more than {limit}",
                                     url=entry.path, feed_url=spec.url))
            continue
        with open(entry.path, "rb") as f:
            data = f.read(limit + 1)
        got, letters = read_delivery(data, spec.format, spec.url, polled_at, settings, counts,
                                     agency_hint=spec.agency, location=entry.path)
        drafts += got
        dead_letters += letters
    state = ok_state(spec.url, polled_at, 200, None, None, len(drafts))
    return PollOutcome((), state, tuple(dead_letters), counts, items=tuple(drafts))
