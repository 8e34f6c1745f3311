"""PollFeeds: the streaming source Dataflow runs, a splittable DoFn with one element per feed.

Its restriction (`PollRange`) counts that feed's polls and carries the feed's FeedTrack, so the
runner checkpoints the poll state with the loop; between polls it defers the rest until the feed
is due, so no worker thread sleeps. When to poll and when to end is the run's PollSchedule
(schedule.py); a poll is `poll_feed` + `poll_track`. Output: entries, feed_state, dead_letters
and ticks. The local runner cannot stream this SDF (pipeline/local_stream.py stands in there);
see ARCHITECTURE.md "Streaming".
"""
from __future__ import annotations

import time

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from schemas.settings import Settings
from transforms.beam_common.dead_letters import DEAD
from transforms.beam_common.metrics import count_all
from transforms.feeds.poll import ITEMS, STAGE, STATE, poll_feed
from transforms.feeds.schedule import PollPlan, PollSchedule, run_started
from transforms.feeds.tracks import TICKS, FeedTrack, copy_track, new_track, poll_items, poll_track
from transforms.fetch.stage import FetcherDoFn

UNBOUNDED_POLLS = 1 << 62


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


class PollFeedFn(FetcherDoFn, RestrictionProvider):
    """(FeedSpec, max_polls) in; ('entry'|'item'|'state'|'dead'|'tick', value) out, stamped with the poll time.

    It is its own restriction provider (RestrictionParam() without one): the initial restriction
    needs the run's settings and plan, which a provider fixed at class definition would not have.
    """

    def __init__(self, settings: Settings, plan: PollPlan, lookup=None):
        super().__init__(settings)  # the fetcher is shared by this DoFn's copies in a process
        self._plan = plan
        self._lookup = lookup  # the warehouse's feed_state, read on the worker, not in the launcher
        self._states = None  # feed url -> stored FeedState, built on first use

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

    @beam.DoFn.unbounded_per_element()
    def process(self, element, tracker=beam.DoFn.RestrictionParam(),
                watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider())):
        schedule = PollSchedule.of(self._plan, self._settings.stream.max_sleep_s, run_started(self._plan.run_id))
        restriction = tracker.current_restriction()
        track, position = restriction.track, restriction.start
        tracks = {track.spec.url: track}
        while True:
            now = time.time()
            if schedule.finished(tracks, now):
                if position < restriction.stop:
                    tracker.try_claim(restriction.stop - 1)  # nothing more to do: the restriction is done
                return
            if not schedule.due(tracks, now):
                _advance(watermark, now)
                tracker.defer_remainder(Timestamp.of(max(schedule.wake(now, tracks), now + 0.01)))
                return
            if not tracker.try_claim(position):
                return
            _advance(watermark, now)
            outcome = poll_track(track, poll_feed(track.spec, track.state, self._fetcher, self._settings),
                                 self._settings, now)
            count_all(STAGE, outcome.counts)
            for item in poll_items(outcome):
                yield TimestampedValue(item, now)
            yield TimestampedValue((TICKS, (track.spec.url, position)), now)
            position += 1


def _advance(watermark, now: float) -> None:
    current = watermark.current_watermark()
    stamp = Timestamp.of(now)
    if current is None or stamp > current:
        watermark.set_watermark(stamp)


class SplitPollResults(beam.DoFn):
    """Fans the poll loop's tagged tuples out to entries, items, feed_state, dead_letters and ticks."""

    def process(self, item):
        kind, value = item
        if kind == "entry":
            yield value
        elif kind == "item":
            yield pvalue.TaggedOutput(ITEMS, value)
        elif kind == "state":
            yield pvalue.TaggedOutput(STATE, value)
        elif kind == "dead":
            yield pvalue.TaggedOutput(DEAD, value)
        else:
            yield pvalue.TaggedOutput(TICKS, value)


class PollFeeds(beam.PTransform):
    """FeedSpec rows in; {'entries', 'items', 'dead_letters', 'feed_state', 'ticks'} out, as long as the plan says."""

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
        return split_poll_results(polled)


def split_poll_results(polled) -> dict:
    """A poll loop's (kind, value) tuples as {'entries', 'items', 'dead_letters', 'feed_state', 'ticks'}."""
    split = polled | "Split Poll Results" >> beam.ParDo(SplitPollResults()).with_outputs(
        STATE, DEAD, TICKS, ITEMS, main="entries")
    return {"entries": split["entries"], ITEMS: split[ITEMS], DEAD: split[DEAD], STATE: split[STATE],
            TICKS: split[TICKS]}
