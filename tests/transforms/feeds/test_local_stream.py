"""The local live poll source: FeedPoller polls turned into TestStream events, served over gRPC."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline import local_stream
from pipeline.corpus_server import CorpusServer, Route
from schemas.settings import Settings
from schemas.types import FeedSpec
from transforms.feeds import schedule
from transforms.feeds.schedule import PollPlan
from transforms.feeds.tracks import TICKS

FEEDS = {
    "http://alpha.example/feed.xml": ["http://alpha.example/a1", "http://alpha.example/a2"],
    "http://beta.example/rss": ["http://beta.example/b1"],
}


def _rss(links) -> bytes:
    items = "".join(f"<item><title>Story {i}</title><link>{link}</link><guid>{link}</guid></item>"
                    for i, link in enumerate(links))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            "</channel></rss>").encode()


@pytest.fixture()
def server():
    found = CorpusServer().start()
    for url, links in FEEDS.items():
        found.set_route(url, Route(body=_rss(links), content_type="application/rss+xml"))
    try:
        yield found
    finally:
        found.stop()


def _plan(**changes) -> PollPlan:
    base = {"run_id": "test", "specs": tuple(FeedSpec(url=u) for u in FEEDS), "poll_interval_s": 1.0}
    return PollPlan(**{**base, **changes})


class FakeClock:
    """Wall time that moves only when the source waits, so a test of minutes takes milliseconds."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        return False


def _decode(events) -> list:
    """(kind, payload) per event: ('elements', [(stamp, item)]), ('watermark', t), ('clock', dt)."""
    out = []
    for event in events:
        if event.HasField("element_event"):
            out.append(("elements", [(e.timestamp / 1e6, local_stream._CODER.decode(e.encoded_element))
                                     for e in event.element_event.elements]))
        elif event.HasField("watermark_event"):
            out.append(("watermark", event.watermark_event.new_watermark / 1e6))
        else:
            out.append(("clock", event.processing_time_event.advance_duration / 1e6))
    return out


def _events(settings, plan, clock) -> list:
    live = local_stream.LivePolls(settings, plan)
    try:
        return _decode(live.events(clock=clock, wait=clock.wait))
    finally:
        live.close()


def test_each_feed_is_polled_max_polls_times_then_the_stream_ends(server):
    settings = Settings().with_fetch(proxy=server.url)
    clock = FakeClock()
    events = _events(settings, _plan(max_polls=2), clock)
    polls = [items for kind, items in events if kind == "elements"]
    assert len(polls) == 4  # 2 feeds x 2 polls, one event each, sent as each poll ends
    entries = [item[1].url for items in polls for _, item in items if item[0] == "entry"]
    assert sorted(entries) == sorted(link for links in FEEDS.values() for link in links)
    states = [item[1] for items in polls for _, item in items if item[0] == "state"]
    assert sorted(s.last_status for s in states) == [200, 200, 304, 304]  # the second poll is conditional
    assert sum(1 for items in polls for _, item in items if item[0] == TICKS) == 4


def test_watermark_and_clock_follow_the_wall_clock_and_never_pass_an_element(server):
    settings = Settings().with_fetch(proxy=server.url)
    clock = FakeClock()
    events = _events(settings, _plan(max_polls=3), clock)
    watermark, told = float("-inf"), 0.0
    for kind, value in events:
        if kind == "elements":
            assert all(stamp >= watermark for stamp, _ in value)  # never late
        elif kind == "watermark":
            assert value >= watermark
            watermark = value
        else:
            told += value
    # The runner's test clock starts at 0: the advances add up to the wall clock of the last pass.
    assert told == pytest.approx(watermark)
    assert watermark <= clock.now


def test_duration_ends_the_stream_at_its_deadline(server):
    settings = Settings().with_fetch(proxy=server.url)
    clock = FakeClock()
    started = clock.now
    events = _events(settings, _plan(duration_s=10.0), clock)
    assert clock.now == pytest.approx(started + 10.0)
    assert sum(1 for kind, _ in events if kind == "elements") >= 4


def test_a_stop_request_lets_running_polls_finish_and_starts_no_new_one(server):
    settings = Settings().with_fetch(proxy=server.url)
    clock = FakeClock()
    live = local_stream.LivePolls(settings, _plan())
    polled = []
    try:
        for event in live.events(clock=clock, wait=clock.wait):
            kind, value = _decode([event])[0]
            if kind == "elements":
                polled += [item[1][0] for _, item in value if item[0] == TICKS]
                schedule.request_stop()
        # Both feeds were polled at the start (two hosts, so at once); no poll began after the
        # request, and the stream ended by itself.
        assert sorted(polled) == sorted(FEEDS)
    finally:
        schedule.reset_stop()
        live.close()


def test_a_slow_feed_does_not_hold_up_the_others_nor_the_watermark_past_it(server):
    import threading

    gate = threading.Event()
    slow = "http://beta.example/rss"
    server.set_route(slow, Route(body=_rss(FEEDS[slow]), content_type="application/rss+xml"))
    original = server.lookup

    def lookup(host, path):
        if (host, path) == ("beta.example", "/rss"):
            gate.wait(10)  # the slow feed answers only when the test lets it
        return original(host, path)

    server.lookup = lookup
    settings = Settings().with_fetch(proxy=server.url)
    live = local_stream.LivePolls(settings, _plan(max_polls=3, poll_interval_s=0.2))  # the wall clock, here
    seen, watermarks, slow_stamp = [], [], None
    try:
        for event in live.events():
            kind, value = _decode([event])[0]
            if kind == "elements":
                for stamp, item in value:
                    if item[0] == TICKS:
                        seen.append(item[1][0])
                        if item[1][0] == slow:
                            slow_stamp = stamp
                    assert not watermarks or stamp >= watermarks[-1]  # nothing is ever late
                if seen.count("http://alpha.example/feed.xml") == 3:
                    gate.set()
            elif kind == "watermark":
                watermarks.append(value)
        # Alpha finished all three polls while beta's first still hung, and the watermark waited.
        assert seen[:3] == ["http://alpha.example/feed.xml"] * 3
        assert seen.count(slow) == 3 and slow_stamp is not None
    finally:
        gate.set()
        live.close()


def test_the_stream_is_served_to_one_pipeline_only(server):
    live = local_stream.LivePolls(Settings().with_fetch(proxy=server.url), _plan(max_polls=1))
    try:
        live.read_multiple(["None"])
        with pytest.raises(RuntimeError, match="one pipeline"):
            live.read_multiple(["None"])
    finally:
        live.close()


def test_read_live_polls_streams_entries_and_feed_state_into_a_pipeline(server):
    settings = Settings().with_fetch(proxy=server.url)
    endpoint = local_stream.serve(settings, _plan(run_id="pipeline-test", max_polls=2, poll_interval_s=0.2))
    options = PipelineOptions(["--runner=BundleBasedDirectRunner"])
    options.view_as(StandardOptions).streaming = True
    try:
        with TestPipeline(options=options) as p:
            read = p | "Poll Feeds" >> local_stream.ReadLivePolls(endpoint)
            urls = read["entries"] | "Entry Urls" >> beam.Map(lambda e: e.url)
            statuses = read["feed_state"] | "Statuses" >> beam.Map(lambda s: (s.feed_url, s.last_status))
            assert_that(urls, equal_to([link for links in FEEDS.values() for link in links]), label="Check Entries")
            assert_that(statuses, equal_to([(u, code) for u in FEEDS for code in (200, 304)]),
                        label="Check States")
    finally:
        local_stream.forget_services()
