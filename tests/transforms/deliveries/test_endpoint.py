"""Polling agency endpoints over local HTTP: keys from the environment, answer shapes, failures as dead letters."""
import json

import pytest

from schemas.settings import Settings
from schemas.types import FeedSpec
from tests.support.hostile_server import HostileServer, redirect, respond
from tests.support.sources import SOURCES
from transforms.feeds.poll import poll_feed
from transforms.fetch.client import Fetcher

DPA = json.loads((SOURCES / "ninjs/2.x/dpa_text.json").read_text(encoding="utf-8"))
TT = json.loads((SOURCES / "ninjs/3.x/tt_text_image_3.json").read_text(encoding="utf-8"))
G2 = (SOURCES / "newsml-g2/newsmlvalidator/2013-10-21T192044Z_1670105467_L1N0IB1MQ_RTRMADT_0_BBO-SOX-CARDINALS-NEWS.XML"
      ).read_bytes()
KEY = "k3y-never-stored"


@pytest.fixture()
def wire():
    with HostileServer() as server:
        yield server


def _poll(server, spec, previous=None):
    settings = Settings().with_fetch(proxy=server.url, respect_robots=False)
    with Fetcher(settings.fetch) as fetcher:
        return poll_feed(spec, previous, fetcher, settings, "2026-03-05T12:00:00+00:00")


def test_an_ap_style_endpoint_is_asked_with_the_key_from_the_environment(wire, monkeypatch):
    monkeypatch.setenv("WIRE_KEY", KEY)
    wire.route("http://api.wire.example/content", respond(200, json.dumps({"data": [{"item": DPA}, {"item": TT}]})
                                                          .encode(), {"Content-Type": "application/json"}))
    spec = FeedSpec(url="http://api.wire.example/content", kind="endpoint", format="ninjs",
                    headers=(("X-Api-Key", "WIRE_KEY"),))
    out = _poll(wire, spec)
    assert wire.requests[0].headers["X-Api-Key"] == KEY
    assert [d.article.title for d in out.items] == ["Faktencheck Derby-Elfmeter: Hat Schiedsrichter Zwayer recht?",
                                                   "Militärövning i jätteformat hålls 2023"]
    assert {d.article.source_kind for d in out.items} == {"ninjs"}
    assert out.items[0].providers[0] == "dpa" and out.entries == () and out.dead == ()
    assert out.counts["entries"] == 2 and out.state.entries_seen == 2
    assert KEY not in repr(out)


def test_the_key_never_follows_a_redirect_to_another_origin(wire, monkeypatch):
    monkeypatch.setenv("WIRE_KEY", KEY)
    wire.route("http://api.wire.example/content", redirect("http://cdn.elsewhere.example/content"))
    wire.route("http://cdn.elsewhere.example/content", respond(200, json.dumps(DPA).encode()))
    spec = FeedSpec(url="http://api.wire.example/content", kind="endpoint", format="ninjs",
                    headers=(("X-Api-Key", "WIRE_KEY"),))
    out = _poll(wire, spec)
    assert len(out.items) == 1
    assert "X-Api-Key" not in wire.requests[1].headers


def test_a_missing_key_or_an_unreadable_answer_is_a_dead_letter_not_a_crash(wire, monkeypatch):
    monkeypatch.delenv("WIRE_KEY", raising=False)
    spec = FeedSpec(url="http://api.wire.example/content", kind="endpoint", format="ninjs",
                    headers=(("X-Api-Key", "WIRE_KEY"),))
    out = _poll(wire, spec)
    assert [(d.error_class, d.message) for d in out.dead] == [
        ("missing_credentials", "environment variable WIRE_KEY (header X-Api-Key) is not set")]
    assert out.state.consecutive_failures == 1 and wire.requests == []
    wire.route("http://api.wire.example/broken", respond(200, b"<html>maintenance</html>"))
    out = _poll(wire, FeedSpec(url="http://api.wire.example/broken", kind="endpoint", format="ninjs"))
    assert [d.error_class for d in out.dead] == ["not_json"] and out.state.consecutive_failures == 1


def test_a_newsml_g2_endpoint_answers_a_news_message(wire):
    wire.route("http://g2.wire.example/feed", respond(200, G2, {"Content-Type": "application/xml"}))
    out = _poll(wire, FeedSpec(url="http://g2.wire.example/feed", kind="endpoint", format="newsml-g2"))
    [draft] = out.items
    assert draft.article.title == "World Series: Lester, Wainwright set for Game 1"
    assert draft.article.source_kind == "newsml-g2" and draft.providers == ["reuters.com", "Reuters", "Thomson Reuters"]
