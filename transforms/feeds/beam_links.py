"""KeepFirstLink: a stream fetches each canonical link once, within a horizon of poll time.

The streaming twin of batch's Group By Link: a link listed by two feeds, re-listed after a
restart, or redelivered by Pub/Sub passes once. The links seen are keyed Beam state, kept as a
state log (transforms/beam_common/state_log.py) with prune on access. The state names
links_log / links_version are part of a running stream: never rename them. See ARCHITECTURE.md.
"""
from __future__ import annotations

import pickle
import time
import typing

import apache_beam as beam

from schemas.types import FeedEntry
from transforms.beam_common.metrics import skipped
from transforms.beam_common.shared_cache import new_scope, shared
from transforms.beam_common.state_log import StateLog, log_spec, version_spec
from transforms.feeds.poll import STAGE
from transforms.feeds.urls import canonical_url
from transforms.util.times import parse_iso

LINKS_KEY = "links"
KEYED = typing.Tuple[str, FeedEntry]  # typed, so the state's key coder is deterministic


@beam.typehints.with_input_types(KEYED)
class KeepFirstLink(beam.DoFn):
    """(LINKS_KEY, entry) in; the first entry of each canonical link out, for `horizon` of poll time."""

    LOG = log_spec("links_log")
    VERSION = version_spec("links_version")

    def __init__(self, horizon_s: float, slack: float = 1.5):
        self._horizon_s = horizon_s
        self._slack = slack  # DedupSettings.state_log_slack
        self._scope = new_scope()
        self._cache: dict = {}

    def setup(self):
        self._cache = shared(self._scope, "links", dict)  # shared by copies, as in AssignStories

    def process(self, keyed, log=beam.DoFn.StateParam(LOG), version=beam.DoFn.StateParam(VERSION)):
        key, entry = keyed
        state = StateLog(self._cache, key, log, version,
                         lambda records: _LinkSet.from_records(records, self._horizon_s))
        seen = state.value
        link = canonical_url(entry.url)
        if link in seen.links:
            skipped(STAGE, "repeated_link")
            state.keep()
            return
        stamp = (parse_iso(entry.polled_at) or parse_iso(entry.published_at))
        ts = stamp.timestamp() if stamp else time.time()
        seen.add(link, ts)
        pruned = seen.prune()
        state.write(_LinkSet.record(link, ts), seen.live_records, len(seen.links), self._slack, compact=bool(pruned))
        yield entry


class _LinkSet:
    """The links seen (canonical link -> poll time), pruned a horizon behind the latest time."""

    def __init__(self, horizon_s: float):
        self.horizon_s = horizon_s
        self.links: dict = {}
        self.clock = float("-inf")
        self.pruned_at = float("-inf")
        self.records = 0

    def add(self, link: str, ts: float) -> None:
        self.links[link] = ts
        self.clock = max(self.clock, ts)

    def prune(self) -> int:
        if self.clock - self.pruned_at < self.horizon_s / 48:
            return 0
        self.pruned_at = self.clock
        cutoff = self.clock - self.horizon_s
        old = [k for k, t in self.links.items() if t < cutoff]
        for k in old:
            del self.links[k]
        return len(old)

    @staticmethod
    def record(link: str, ts: float) -> bytes:
        return pickle.dumps((link, ts), protocol=pickle.HIGHEST_PROTOCOL)

    def live_records(self) -> list:
        return [self.record(k, t) for k, t in self.links.items()]

    @classmethod
    def from_records(cls, records, horizon_s: float) -> "_LinkSet":
        found = cls(horizon_s)
        for raw in records:
            found.add(*pickle.loads(raw))
            found.records += 1
        return found
