"""ReadDropFolders: agency files dropped into folders or buckets, read with Beam's fileio, as Drafts.

Batch matches each folder once (`fileio.MatchAll`); a stream watches each folder with
`fileio.MatchContinuously`, which reads each new file once. Either way the files go through
`ReadMatches` and `read_delivery`: the items become Drafts that skip fetch and extraction, and
what cannot be read becomes a read_feeds dead letter. See ARCHITECTURE.md.
"""
from __future__ import annotations

import time

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import fileio
from apache_beam.transforms.window import FixedWindows
from apache_beam.utils.timestamp import MAX_TIMESTAMP, Timestamp

from schemas.settings import Settings
from transforms.beam_common.dead_letters import DEAD, guarded_pardo
from transforms.beam_common.metrics import count_all
from transforms.deliveries.delivery import read_delivery
from transforms.feeds.outcome import ITEMS, STAGE, dead
from transforms.util.times import iso, utc_now


def folder_pattern(folder: str) -> str:
    """The glob of a drop folder's files: every file directly in it."""
    return folder.rstrip("/") + "/*"


class ReadDeliveryFile(beam.DoFn):
    """A matched file of a drop folder in; its items as Drafts out, plus dead letters."""

    def __init__(self, specs, settings: Settings):
        # Longest folder first, so a folder inside another folder claims its own files.
        self._specs = sorted(specs, key=lambda s: -len(s.url))
        self._settings = settings

    def process(self, readable):
        path = readable.metadata.path
        spec = next((s for s in self._specs if path.startswith(s.url.rstrip("/") + "/")), self._specs[-1])
        counts: dict = {}
        size = readable.metadata.size_in_bytes or 0
        if size > self._settings.sources.max_delivery_bytes:
            drafts, dead_letters = [], [dead(counts, "too_large", f"a file of {size} bytes, more than "
                                             f"{self._settings.sources.max_delivery_bytes}", url=path,
                                             feed_url=spec.url)]
        else:
            drafts, dead_letters = read_delivery(readable.read(), spec.format, spec.url, iso(utc_now()),
                                                 self._settings, counts, agency_hint=spec.agency, location=path)
        count_all(STAGE, counts)
        yield from drafts
        for letter in dead_letters:
            yield pvalue.TaggedOutput(DEAD, letter)


class ReadDropFolders(beam.PTransform):
    """Pipeline in; {'items', 'dead_letters'} from the folder specs' files, once (batch) or as they come."""

    def __init__(self, specs, settings: Settings, streaming: bool = False, stop_after_s: float | None = None):
        super().__init__()
        self._specs = list(specs)
        self._settings = settings
        self._streaming = streaming
        self._stop_after_s = stop_after_s  # a stream's --duration: the watch ends with the run

    def expand(self, pbegin):
        if self._streaming:
            files = self._watch(pbegin)
        else:
            files = (pbegin
                     | "Create Folder Patterns" >> beam.Create([folder_pattern(s.url) for s in self._specs])
                     | "Match Folder Files" >> fileio.MatchAll())
        readable = files | "Read Matches" >> fileio.ReadMatches()
        read = guarded_pardo(readable, "Read Deliveries", STAGE, ReadDeliveryFile(self._specs, self._settings),
                             main=ITEMS)
        items = read[ITEMS]
        dead_letters = read[DEAD]
        if self._streaming:
            window = self._settings.stream.window_s
            items = items | "Window Folder Items" >> beam.WindowInto(FixedWindows(window))
            dead_letters = dead_letters | "Window Folder Dead Letters" >> beam.WindowInto(FixedWindows(window))
        return {ITEMS: items, DEAD: dead_letters}

    def _watch(self, pbegin):
        stop = MAX_TIMESTAMP if self._stop_after_s is None else Timestamp.of(time.time() + self._stop_after_s)
        interval = self._settings.sources.folder_poll_interval_s
        watched = [pbegin | f"Watch Drop Folder {n}" >> fileio.MatchContinuously(
                       folder_pattern(spec.url), interval=interval, start_timestamp=Timestamp.now(),
                       stop_timestamp=stop)
                   for n, spec in enumerate(self._specs, start=1)]
        return watched | "Flatten Folder Files" >> beam.Flatten()
