"""The streaming source: poll every feed on its own adaptive interval, politely, until told to stop.

This SDF is what Dataflow runs. On the local runner the same FeedPoller streams into the graph
through transforms/live_poll.py instead, because neither local runner streams this SDF.

`PollFeedFn` is a splittable DoFn with one element per feed. Its restriction counts that feed's
polls (0..max_polls, or practically unbounded); between polls it defers the rest of the
restriction until the feed is due, so no worker thread sleeps. Each poll is a conditional GET
(If-None-Match / If-Modified-Since, through `read_feeds.FetchAndParseFeed`, the same code as
batch); 304 is "unchanged". The element ends by itself after `max_polls` polls, at the
`--duration` deadline, or when `request_stop()` is called (Ctrl-C in the CLI), so the pipeline
drains and every sink flushes.

Per-feed state (etag, last-modified, status, failures, entries seen, current interval, next due
time, entry ids already emitted) is a `FeedTrack`, seeded from the warehouse's feed_state table.
In the SDF it rides in the restriction (`PollRange`): each deferral hands the runner a residual
restriction holding the updated track, so the state is Beam's, checkpointed with the loop, and a
feed that moves to another worker keeps its ETags and its interval. (Keyed state would need the
state to flow back from a stateful step after the source into the source: a cycle.) Every poll
also emits its FeedState row, which the sink upserts into feed_state, so a restart (or a batch
run) resumes with the same ETags and does not poll a feed early. The Beam state that guards
"entries already seen are not fetched again" across feeds, restarts and redeliveries is
`KeepFirstLink` below (keyed state with an event-time horizon).

`FeedPoller` holds the tracks of many feeds in plain Python for `wiredesk poll --publish` and for
the local live source.
"""
from __future__ import annotations

import collections
import dataclasses
import pickle
import threading
import time
import typing

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import BytesCoder, VarIntCoder
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms import userstate
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from schemas.settings import Settings
from schemas.types import FeedEntry, FeedState
from transforms.beam_common.dead_letters import DEAD
from transforms.beam_common.metrics import counter, skipped
from transforms.util.times import parse_iso
from transforms.beam_common.shared_cache import new_scope, shared
from transforms.feeds import schedule as _schedule
from transforms.feeds.schedule import request_stop, reset_stop, run_started, stop_event, stop_requested  # noqa: F401

STAGE = "read_feeds"
STATE = "feed_state"
TICKS = "ticks"
UNBOUNDED_POLLS = 1 << 62

@dataclasses.dataclass(frozen=True)
class PollPlan:
    """What a streaming run polls and for how long; built once by the builder."""

    run_id: str
    specs: tuple
    states: tuple = ()  # FeedState rows: only for the local live service, which runs in the launcher
    poll_interval_s: typing.Optional[float] = None  # --poll-interval (else the feeds file, else default)
    duration_s: typing.Optional[float] = None
    max_polls: typing.Optional[int] = None
    # Set on the local runner: the polls stream in from transforms/live_poll.py's service here.
    live_endpoint: typing.Optional[str] = None


@dataclasses.dataclass
class FeedTrack:
    spec: typing.Any
    state: typing.Optional[FeedState]
    base_s: float
    interval_s: float
    next_due: float
    polls: int = 0
    seen: collections.OrderedDict = dataclasses.field(default_factory=collections.OrderedDict)


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


class FeedPoller:
    """Polls many feeds and keeps their tracks in memory: `wiredesk poll` and the local live source."""

    def __init__(self, settings: Settings, specs, states=(), poll_interval_s=None, now=None):
        from transforms.feeds.stage import FetchAndParseFeed

        self.settings = settings
        now = time.time() if now is None else now
        by_url = {s.feed_url: s for s in states}
        self.tracks = {spec.url: new_track(spec, by_url.get(spec.url), settings, poll_interval_s, now)
                       for spec in specs}
        self._reader = FetchAndParseFeed(settings)
        self._reader.setup()
        self._locks = {url: threading.Lock() for url in self.tracks}

    def close(self) -> None:
        self._reader.close_shared()

    def due(self, now: float, urls=None) -> list:
        """The feeds among urls (every feed when None) whose next poll is due by now."""
        return [u for u in (self.tracks if urls is None else urls) if self.tracks[u].next_due <= now]

    def next_due(self, urls=None) -> float:
        """The earliest next poll among urls (every feed when None; must not be empty)."""
        return min(self.tracks[u].next_due for u in (self.tracks if urls is None else urls))

    def poll(self, url: str, now: float | None = None) -> list:
        """One conditional GET of one feed: [(kind, value)] with kind entry | state | dead.

        Thread-safe: different feeds may be polled at once (the fetcher keeps the host gaps).
        """
        with self._locks[url]:
            return poll_track(self.tracks[url], self._reader, self.settings, time.time() if now is None else now)


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


def poll_track(track: FeedTrack, reader, settings: Settings, now: float) -> list:
    """One conditional GET of the track's feed: [(kind, value)] with kind entry | state | dead.

    Updates the track (state, interval, next due time, entry ids seen) in place.
    """
    previous = track.state
    out, new_state = [], None
    for item in reader.read_one(track.spec, {track.spec.url: previous} if previous is not None else None):
        if isinstance(item, pvalue.TaggedOutput):
            if item.tag == STATE:
                new_state = item.value
            else:
                out.append(("dead", item.value))
        elif isinstance(item, FeedEntry):
            if item.entry_id in track.seen:
                skipped(STAGE, "seen_entry")  # listed again by the feed; emitted at an earlier poll
                continue
            track.seen[item.entry_id] = now
            out.append(("entry", item))
    while len(track.seen) > settings.stream.max_seen_per_feed:
        track.seen.popitem(last=False)
    new_entries = sum(1 for kind, _ in out if kind == "entry")
    counter(STAGE, "new_entries").inc(new_entries)
    if new_state is not None:
        failures = new_state.consecutive_failures or 0
        outcome = "failed" if failures else ("unchanged" if new_state.last_status == 304 else "changed")
        if new_state.last_status == 304 and previous is not None:
            # A 304 carries no entry count; keep the last one.
            new_state = new_state._replace(entries_seen=previous.entries_seen)
        track.interval_s = next_interval(track, outcome, new_entries, failures, settings)
        track.state = new_state
        out.append(("state", new_state))
    track.polls += 1
    track.next_due = now + track.interval_s
    return out


def copy_track(track: FeedTrack) -> FeedTrack:
    return dataclasses.replace(track, seen=collections.OrderedDict(track.seen))


class PollRange(OffsetRange):
    """A feed's polls [start, stop) plus the feed's poll state, so the runner checkpoints them together.

    The state (ETag, Last-Modified, interval, next due time, entry ids seen) is Beam's to keep:
    when the loop defers, the residual restriction carries it, so a feed that moves to another
    worker (or resumes after a worker restart) keeps its conditional GET and its politeness.
    """

    def __init__(self, start: int, stop: int, track: FeedTrack):
        super().__init__(start, stop)
        self.track = track

    def split_at(self, split_pos):
        return (PollRange(self.start, split_pos, self.track),
                PollRange(split_pos, self.stop, copy_track(self.track)))


class PollTracker(OffsetRestrictionTracker):
    """Claims polls in order; splits only to checkpoint, so one loop per feed ever runs at a time."""

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder > 0:
            return None  # a parallel second loop would poll the same feed twice as often
        return super().try_split(0)


def forget_runs() -> None:
    """Compat: forget finished runs and their live poll services (callers move to schedule + local_stream)."""
    from pipeline.local_stream import forget_services

    _schedule.forget_runs()
    forget_services()


class PollFeedFn(beam.DoFn, RestrictionProvider):
    """(FeedSpec, max_polls) in; ('entry'|'state'|'dead'|'tick', value) out, stamped with the poll time.

    It is its own restriction provider (RestrictionParam() without one): the initial restriction
    needs the run's settings and plan, which a provider fixed at class definition would not have.
    """

    def __init__(self, settings: Settings, plan: PollPlan, lookup=None):
        from transforms.feeds.stage import FetchAndParseFeed

        self._settings = settings
        self._plan = plan
        self._lookup = lookup  # the warehouse's feed_state, read on the worker, not in the launcher
        self._states = None  # feed url -> stored FeedState, built on first use
        self._reader = FetchAndParseFeed(settings)

    def initial_restriction(self, element):
        """A feed's polls as a PollRange: [0, max_polls) or practically unbounded."""
        spec, max_polls = element
        if self._states is None:
            self._states = {s.feed_url: s for s in self._plan.states}
            if self._lookup is not None:
                # One batched query for the run's feeds, the first time a worker needs one.
                self._states.update(self._lookup.feed_states(s.url for s in self._plan.specs))
        track = new_track(spec, self._states.get(spec.url), self._settings, self._plan.poll_interval_s, time.time())
        return PollRange(0, max_polls or UNBOUNDED_POLLS, track)

    def create_tracker(self, restriction):
        return PollTracker(restriction)

    def restriction_size(self, element, restriction):
        return 1

    def truncate(self, element, restriction):
        return None  # on drain, a poll loop simply ends

    def setup(self):
        self._reader.setup()

    def _finished(self, started: float, now: float) -> bool:
        plan = self._plan
        return stop_requested() or (plan.duration_s is not None and now >= started + plan.duration_s)

    @beam.DoFn.unbounded_per_element()
    def process(self, element, tracker=beam.DoFn.RestrictionParam(),
                watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())):
        started = run_started(self._plan.run_id)
        restriction = tracker.current_restriction()
        track, position = restriction.track, restriction.start
        while True:
            now = time.time()
            if self._finished(started, now):
                tracker.try_claim(restriction.stop - 1)  # nothing more to do: the restriction is done
                return
            if track.next_due > now:
                wake = min(track.next_due, now + self._settings.stream.max_sleep_s)
                if self._plan.duration_s is not None:
                    wake = min(wake, started + self._plan.duration_s)
                _advance(watermark, now)
                tracker.defer_remainder(Timestamp.of(max(wake, now + 0.01)))
                return
            if not tracker.try_claim(position):
                return
            _advance(watermark, now)
            for kind, value in poll_track(track, self._reader, self._settings, now):
                yield TimestampedValue((kind, value), now)
            yield TimestampedValue((TICKS, (track.spec.url, position)), now)
            position += 1


def _advance(watermark, now: float) -> None:
    current = watermark.current_watermark()
    stamp = Timestamp.of(now)
    if current is None or stamp > current:
        watermark.set_watermark(stamp)


class SplitPollResults(beam.DoFn):
    """Fans the poll loop's tagged tuples out to entries, feed_state, dead_letters and ticks."""

    def process(self, item):
        kind, value = item
        if kind == "entry":
            yield value
        elif kind == "state":
            yield pvalue.TaggedOutput(STATE, value)
        elif kind == "dead":
            yield pvalue.TaggedOutput(DEAD, value)
        else:
            yield pvalue.TaggedOutput(TICKS, value)


class PollFeeds(beam.PTransform):
    """FeedSpec rows in; {'entries', 'dead_letters', 'feed_state', 'ticks'} out, for as long as the plan says."""

    def __init__(self, settings: Settings, plan: PollPlan, lookup=None):
        super().__init__()
        self._settings = settings
        self._plan = plan
        self._lookup = lookup

    def expand(self, specs):
        max_polls = self._plan.max_polls
        polled = (specs
                  | "Pair Poll Limit" >> beam.Map(lambda spec: (spec, max_polls))
                  | "Poll Feed Loop" >> beam.ParDo(PollFeedFn(self._settings, self._plan, self._lookup)))
        split = polled | "Split Poll Results" >> beam.ParDo(SplitPollResults()).with_outputs(
            STATE, DEAD, TICKS, main="entries")
        return {"entries": split["entries"], DEAD: split[DEAD], STATE: split[STATE], TICKS: split[TICKS]}


class KeepFirstLink(beam.DoFn):
    """(LINKS_KEY, entry) in; the first entry of each canonical link out, for `horizon` of poll time.

    The streaming twin of batch's Group By Link: a link listed by two feeds, re-listed after a
    restart, or redelivered by Pub/Sub is fetched once. The set of links seen lives in Beam state
    (an append-only bag of (link, time) plus a version), with a per-instance decoded cache and
    prune on access, like the story index (transforms/streaming_dedup.py).
    """

    LOG = userstate.BagStateSpec("links_log", BytesCoder())
    VERSION = userstate.ReadModifyWriteStateSpec("links_version", VarIntCoder())

    def __init__(self, horizon_s: float, slack: float = 1.5):
        self._horizon_s = horizon_s
        self._slack = slack  # DedupSettings.state_log_slack
        self._scope = new_scope()
        self._cache: dict = {}

    def setup(self):
        self._cache = shared(self._scope, "links", dict)  # shared by copies, as in AssignStories

    def process(self, keyed, log=beam.DoFn.StateParam(LOG), version=beam.DoFn.StateParam(VERSION)):
        from transforms.feeds.urls import canonical_url

        key, entry = keyed
        current = version.read() or 0
        cached = self._cache.get(key)
        if cached is not None and cached[0] == current:
            seen = cached[1]
        else:
            seen = _LinkSet.from_records(log.read() if current else (), self._horizon_s)
        link = canonical_url(entry.url)
        if link in seen.links:
            skipped(STAGE, "repeated_link")
            self._cache[key] = (current, seen)
            return
        stamp = (parse_iso(entry.polled_at) or parse_iso(entry.published_at))
        seen.add(link, stamp.timestamp() if stamp else time.time())
        if seen.prune() or seen.records > self._slack * len(seen.links) + 256:
            log.clear()
            for raw in seen.live_records():
                log.add(raw)
            seen.records = len(seen.links)
        else:
            log.add(_LinkSet.record(link, seen.links[link]))
            seen.records += 1
        version.write(current + 1)
        self._cache[key] = (current + 1, seen)
        yield entry


class _LinkSet:
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


LINKS_KEY = "links"


def expand_streaming(specs, settings: Settings, source, lookup=None) -> dict:
    """The body of ReadFeeds when the pipeline streams: poll (or Pub/Sub), drop known and repeated links."""
    from apache_beam.transforms.window import FixedWindows, GlobalWindows

    from transforms.feeds.beam_lookups import DropStoredEntries

    if isinstance(source, PollPlan) and source.live_endpoint:
        from pipeline.local_stream import ReadLivePolls

        read = specs.pipeline | "Poll Feeds" >> ReadLivePolls(source.live_endpoint)
    elif isinstance(source, PollPlan):
        read = specs | "Poll Feeds" >> PollFeeds(settings, source, lookup)
    else:
        from transforms.feeds.beam_pubsub import ReadEntriesFromPubSub

        read = specs.pipeline | "Read Entry Messages" >> ReadEntriesFromPubSub(source)
    entries = read["entries"]
    if lookup is not None:
        entries = entries | "Drop Known Entries" >> beam.ParDo(DropStoredEntries(lookup))
    # Micro-batches of arrival for the shuffles downstream (links, hosts): fixed windows of poll
    # (or, for Pub/Sub, arrival) time. Processing-time triggers would suit Pub/Sub better, but the
    # FnApiRunner has none and the local Pub/Sub reader holds processing time while a pull waits.
    def window():
        return beam.WindowInto(FixedWindows(settings.stream.window_s))

    unique = (entries
              | "Window Links" >> beam.WindowInto(GlobalWindows())
              | "Key By Link" >> beam.Map(lambda e: (LINKS_KEY, e))
              | "Keep First Link" >> beam.ParDo(KeepFirstLink(settings.dedup.horizon_hours * 3600.0,
                                                              settings.dedup.state_log_slack))
              | "Window Entries" >> window().with_output_types(FeedEntry))
    out = {"entries": unique,
           DEAD: read[DEAD] | "Window Feed Dead Letters" >> window(),
           STATE: read[STATE] | "Window Feed State" >> window()}
    if TICKS in read:
        out[TICKS] = read[TICKS]
    return out
