"""FeedPoller: the tracks of many feeds in plain Python, polled on demand (no Beam, no DoFn).

The local live stream (pipeline/local_stream.py) and `wiredesk poll --publish`
(pipeline/publish.py) drive it with a PollSchedule; each poll is `poll_feed` with the poller's
own Fetcher, applied to the feed's track by `poll_track`. See ARCHITECTURE.md "Streaming".
"""
from __future__ import annotations

import threading
import time

from schemas.settings import Settings
from transforms.feeds.poll import poll_feed
from transforms.feeds.tracks import new_track, poll_items, poll_track
from transforms.fetch.client import Fetcher


class FeedPoller:
    """Polls many feeds and keeps their tracks (feed url -> FeedTrack) in memory.

    `tally(counts)`, if given, receives every poll's read_feeds counter increments.
    """

    def __init__(self, settings: Settings, specs, states=(), poll_interval_s=None, now=None, tally=None):
        self.settings = settings
        now = time.time() if now is None else now
        by_url = {s.feed_url: s for s in states}
        self.tracks = {spec.url: new_track(spec, by_url.get(spec.url), settings, poll_interval_s, now)
                       for spec in specs}
        self._fetcher = Fetcher(settings.fetch)
        self._tally = tally
        self._locks = {url: threading.Lock() for url in self.tracks}

    def close(self) -> None:
        self._fetcher.close()

    def poll(self, url: str, now: float | None = None) -> list:
        """One conditional GET of one feed: [(kind, value)] with kind entry | dead | state.

        Thread-safe: different feeds may be polled at once (the fetcher keeps the host gaps).
        """
        now = time.time() if now is None else now
        with self._locks[url]:
            track = self.tracks[url]
            outcome = poll_track(track, poll_feed(track.spec, track.state, self._fetcher, self.settings),
                                 self.settings, now)
        if self._tally is not None:
            self._tally(outcome.counts)
        return poll_items(outcome)
