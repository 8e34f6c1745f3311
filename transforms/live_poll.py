"""The local live source: poll the feeds beside the graph and stream each poll into it as it happens.

Neither local runner can stream the polling SDF (transforms/poll_feeds.py). The FnApiRunner hands
a stage's output downstream only when the stage ends, and for an unbounded source that is the end
of the run. The BundleBasedDirectRunner does stream, but its splittable-DoFn support predates
`defer_remainder` and does not run the poll loop at all. What the BundleBasedDirectRunner does run
in real time is a TestStream that reads its events from a TestStreamService endpoint, which is how
Interactive Beam streams into a local pipeline.

So on the local runner a `LivePolls` object runs the same `FeedPoller` that the SDF and
`wiredesk poll` use (conditional GET, adaptive intervals, entries already seen dropped), in the
service's thread, and turns each poll into an event:
- An AddElements event carries the poll's ('entry'|'state'|'dead'|'tick', value) tuples, stamped
  with the poll time. These are the same tuples the SDF yields, so "Split Poll Results" is shared.
- Each pass over the feeds ends with a watermark advance and a processing-time advance to the wall
  clock. This closes the windows downstream and fires the writer's timed flush.
- The end of the run (every feed polled --max-polls times, --duration, or request_stop() on Ctrl-C)
  ends the event stream. That moves the watermark to +inf, so the graph drains and every sink
  flushes.
"""
from __future__ import annotations

import threading
import time

import apache_beam as beam
from apache_beam.coders import PickleCoder

from pipeline.settings import Settings
from transforms.poll_feeds import TICKS, FeedPoller, PollPlan, SplitPollResults, stop_event

_CODER = PickleCoder()
_SERVICES: dict = {}
_SERVICES_LOCK = threading.Lock()


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


class LivePolls:
    """One run's polls, served as a TestStream event stream on a local gRPC endpoint."""

    def __init__(self, settings: Settings, plan: PollPlan):
        from apache_beam.testing.test_stream_service import TestStreamServiceController

        self._settings = settings
        self._plan = plan
        self._served = threading.Lock()
        self._service = TestStreamServiceController(self)
        self._service.start()
        self.endpoint = self._service.endpoint

    def close(self) -> None:
        self._service.stop()

    def read_multiple(self, _tags):
        """The TestStreamService's reader interface: the event stream, served to one pipeline only."""
        if not self._served.acquire(blocking=False):
            raise RuntimeError("a live poll stream is served to one pipeline only")
        return self.events()

    def events(self, clock=time.time, wait=None):
        """TestStreamPayload.Event protos until the plan says stop; polls the feeds while iterated."""
        from apache_beam.portability.api import beam_runner_api_pb2

        payload = beam_runner_api_pb2.TestStreamPayload
        wait = wait or stop_event().wait
        plan, stream = self._plan, self._settings.stream
        poller = FeedPoller(self._settings, plan.specs, plan.states, plan.poll_interval_s, now=clock())
        started = clock()
        told = 0.0  # the processing time the runner has been told; its test clock starts at 0
        try:
            while True:
                now = clock()
                active = [u for u, t in poller.tracks.items() if plan.max_polls is None or t.polls < plan.max_polls]
                deadline = None if plan.duration_s is None else started + plan.duration_s
                if not active or stop_event().is_set() or (deadline is not None and now >= deadline):
                    return
                for url in poller.due(now, active):
                    stamp = clock()
                    found = poller.poll(url, stamp)
                    found.append((TICKS, (url, poller.tracks[url].polls - 1)))
                    yield payload.Event(element_event=payload.Event.AddElements(elements=[
                        payload.TimestampedElement(encoded_element=_CODER.encode(item), timestamp=_micros(stamp))
                        for item in found]))
                    if stop_event().is_set():
                        break
                now = clock()
                yield payload.Event(watermark_event=payload.Event.AdvanceWatermark(new_watermark=_micros(now)))
                yield payload.Event(processing_time_event=payload.Event.AdvanceProcessingTime(
                    advance_duration=_micros(now - told)))
                told = now
                active = [u for u in active if plan.max_polls is None or poller.tracks[u].polls < plan.max_polls]
                if active:
                    # Wake for the next due feed, or at least every max_sleep_s: the runner gives up
                    # on a TestStream that is silent for 30 s, and Ctrl-C should be prompt.
                    wake = min(poller.next_due(active), now + stream.max_sleep_s)
                    if deadline is not None:
                        wake = min(wake, deadline)
                    if wake > now:
                        wait(wake - now)
        finally:
            poller.close()


def serve(settings: Settings, plan: PollPlan) -> str:
    """Start the live poll service for a run and return its endpoint (closed by forget_services())."""
    live = LivePolls(settings, plan)
    with _SERVICES_LOCK:
        _SERVICES[plan.run_id] = live
    return live.endpoint


def forget_services() -> None:
    """Stop the services of finished runs (the CLI calls this after a streaming run)."""
    with _SERVICES_LOCK:
        found = list(_SERVICES.values())
        _SERVICES.clear()
    for live in found:
        live.close()


class ReadLivePolls(beam.PTransform):
    """The live poll stream at `endpoint` in; {'entries', 'dead_letters', 'feed_state', 'ticks'} out."""

    def __init__(self, endpoint: str):
        super().__init__()
        self._endpoint = endpoint

    def expand(self, pbegin):
        from apache_beam.testing.test_stream import TestStream

        from transforms.common import DEAD
        from transforms.poll_feeds import STATE

        polled = pbegin | "Stream Polls" >> TestStream(coder=_CODER, endpoint=self._endpoint)
        split = polled | "Split Poll Results" >> beam.ParDo(SplitPollResults()).with_outputs(
            STATE, DEAD, TICKS, main="entries")
        return {"entries": split["entries"], DEAD: split[DEAD], STATE: split[STATE], TICKS: split[TICKS]}
