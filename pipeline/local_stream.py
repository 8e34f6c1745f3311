"""The local live source: poll the feeds beside the graph and stream each poll into it as it happens.

Neither local runner streams the polling SDF (transforms/feeds/beam_poll.py), but the
BundleBasedDirectRunner does stream a TestStream read from a TestStreamService endpoint. So
`serve()` (called by prepare) starts a `LivePolls` service: a FeedPoller on the run's PollSchedule
whose polls become AddElements events of the SDF's own (kind, value) items, plus watermark and
clock advances; `ReadLivePolls(endpoint)` is the source the builder hands to ReadFeedsStreaming.
The only module that imports apache_beam.testing. See ARCHITECTURE.md "Streaming".
"""
from __future__ import annotations

import threading
import time

import apache_beam as beam
from apache_beam.coders import PickleCoder

from schemas.settings import Settings
from transforms.beam_common.metrics import count_all
from transforms.feeds.beam_poll import split_poll_results
from transforms.feeds.poll import STAGE
from transforms.feeds.poller import FeedPoller
from transforms.feeds.schedule import PollPlan, PollSchedule, stop_event
from transforms.feeds.tracks import TICKS
from transforms.feeds.urls import host_of

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
        self.failure = None  # what ended the stream early, if anything did
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
        """TestStreamPayload.Event protos until the plan says stop; polls the feeds while iterated.

        Up to `poll_workers` feeds are polled at once, never two of one host. The watermark is held
        at the start of the oldest poll still running, so no poll's elements are ever late.
        """
        try:
            yield from self._events(clock, wait or stop_event().wait)
        except BaseException as err:
            # The runner would see only an ended stream, as if stopped; the CLI reports this instead.
            if not isinstance(err, GeneratorExit):
                self.failure = err
            raise

    def _events(self, clock, wait):
        import concurrent.futures

        from apache_beam.portability.api import beam_runner_api_pb2

        payload = beam_runner_api_pb2.TestStreamPayload
        plan, stream = self._plan, self._settings.stream
        poller = FeedPoller(self._settings, plan.specs, plan.states, plan.poll_interval_s, now=clock(),
                            tally=lambda counts: count_all(STAGE, counts))
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=stream.poll_workers,
                                                     thread_name_prefix="wiredesk-poll")
        schedule = PollSchedule.of(plan, stream.max_sleep_s, started=clock())
        flying: dict = {}  # future -> (feed url, poll start time)
        told = 0.0  # the processing time the runner has been told; its test clock starts at 0
        watermark = float("-inf")

        def idle(free_hosts_only: bool = False) -> dict:
            """Feeds with no poll running (and, if asked, none of their host's either)."""
            running = {url for url, _ in flying.values()}
            busy = {host_of(url) for url in running} if free_hosts_only else set()
            return {u: t for u, t in poller.tracks.items() if u not in running and host_of(u) not in busy}

        try:
            while True:
                now = clock()
                if not schedule.stopping(now):
                    busy_hosts = set()
                    for url in schedule.due(idle(free_hosts_only=True), now):
                        if host_of(url) in busy_hosts:
                            continue  # its host is being polled: next pass
                        busy_hosts.add(host_of(url))
                        stamp = clock()
                        flying[pool.submit(poller.poll, url, stamp)] = (url, stamp)
                for future in [f for f in flying if f.done()]:
                    url, stamp = flying.pop(future)
                    found = future.result() + [(TICKS, (url, poller.tracks[url].polls - 1))]
                    yield payload.Event(element_event=payload.Event.AddElements(elements=[
                        payload.TimestampedElement(encoded_element=_CODER.encode(item), timestamp=_micros(stamp))
                        for item in found]))
                if not flying and schedule.finished(poller.tracks, now):
                    return  # stopped with every poll finished, or every feed polled max_polls times
                now = clock()
                watermark = max(watermark, min([now] + [stamp for _, stamp in flying.values()]))
                yield payload.Event(watermark_event=payload.Event.AdvanceWatermark(new_watermark=_micros(watermark)))
                yield payload.Event(processing_time_event=payload.Event.AdvanceProcessingTime(
                    advance_duration=_micros(now - told)))
                told = now
                # Wake for the next due feed, a finished poll, or at least every max_sleep_s: the
                # runner gives up on a TestStream that is silent for 30 s, and Ctrl-C should be prompt.
                wake = schedule.wake(now, idle(free_hosts_only=True))
                if flying:
                    concurrent.futures.wait(list(flying), timeout=max(0.0, wake - now),
                                            return_when=concurrent.futures.FIRST_COMPLETED)
                elif wake > now:
                    wait(wake - now)
        finally:
            pool.shutdown(wait=True)
            poller.close()


def serve(settings: Settings, plan: PollPlan) -> str:
    """Start the live poll service for a run and return its endpoint (closed by forget_services())."""
    live = LivePolls(settings, plan)
    with _SERVICES_LOCK:
        _SERVICES[plan.run_id] = live
    return live.endpoint


def failures() -> list:
    """What made a live poll stream end early, for every service still registered."""
    with _SERVICES_LOCK:
        return [live.failure for live in _SERVICES.values() if live.failure is not None]


def forget_services() -> None:
    """Stop the services of finished runs (the CLI calls this after a streaming run)."""
    with _SERVICES_LOCK:
        found = list(_SERVICES.values())
        _SERVICES.clear()
    for live in found:
        live.close()


class ReadLivePolls(beam.PTransform):
    """The live poll stream at `endpoint`; {'entries', 'dead_letters', 'feed_state', 'ticks'} out.

    Its input only places it in a pipeline (the feed specs, or the pipeline's root): the service
    already knows the feeds.
    """

    def __init__(self, endpoint: str):
        super().__init__()
        self._endpoint = endpoint

    def expand(self, pvalueish):
        from apache_beam.testing.test_stream import TestStream

        pbegin = beam.pvalue.PBegin(pvalueish.pipeline)
        polled = pbegin | "Stream Polls" >> TestStream(coder=_CODER, endpoint=self._endpoint)
        return split_poll_results(polled)
