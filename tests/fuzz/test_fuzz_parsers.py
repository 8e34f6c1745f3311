"""Hypothesis fuzzing of what reads untrusted bytes: feeds, page decoding, extraction and page signals.

Each target runs for a bounded time (WIREDESK_FUZZ_SECONDS, a few seconds by default, so CI stays
quick; run with WIREDESK_FUZZ_SECONDS=600 locally for a real hunt). Inputs are random bytes and
mutations of valid feeds and pages, with tokens that broke parsers before (entity declarations,
impossible character references, byte order marks, NULs, deep nesting).

The contract checked: a parser either returns well-formed results or raises its own reasoned error
(NotAFeed, ExtractionError). Anything else would be an unexpected_error dead letter at best; and
text that cannot be encoded as UTF-8 (lone surrogates) would crash Beam's coders between stages.
"""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import fuzz_seconds
from tests.hostile.web import article_html, rss
from transforms.extract.decode import decode_html
from transforms.extract.page import extract_page
from transforms.extract.results import ExtractionError
from transforms.extract.signals import page_signals
from transforms.feeds.parsing import NotAFeed, parse_feed

BUDGET = fuzz_seconds()
# Roughly what fits in the budget; examples past the deadline return at once.
FUZZ = settings(max_examples=int(BUDGET * 60) + 20, deadline=None, database=None, derandomize=False,
                suppress_health_check=list(HealthCheck))
# The slowest single input allowed: a parser that takes longer on a small input is a DoS.
MAX_SECONDS_PER_INPUT = 5.0

ATOM = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b'<entry><title>T &amp; more</title><link href="/rel/1"/><id>urn:1</id><updated>2026-03-05T10:00:00Z</updated>'
        b'<summary type="html">&lt;p&gt;Hi&lt;/p&gt;</summary></entry></feed>')
JSON_FEED = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": 1, '
             b'"url": "http://j.example/a", "title": "T", "date_published": "2026-03-05T10:00:00Z", '
             b'"authors": [{"name": "A"}], "tags": ["x", 2]}]}')
RSS = rss([{"title": "One", "link": "http://r.example/1", "guid": "1"},
           {"title": "Two", "link": "/two", "description": "<b>bold</b> &amp; co"}])
PAGE = article_html("Fuzzed page", "fuzz").encode("utf-8")
SEEDS = [RSS, ATOM, JSON_FEED, PAGE]
TOKENS = [b"<!DOCTYPE rss [<!ENTITY a \"aaaa\">]>", b"<!ENTITY % p SYSTEM \"http://x/\">", b"&a;", b"&#xD800;",
          b"&#x110000;", b"&#0;", b"&#99999999999;", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"<![CDATA[", b"]]>",
          b"<?xml version=\"1.0\" encoding=\"utf-16\"?>", b"<?xml version=\"1.0\" encoding=\"bogus\"?>",
          b"<div>" * 50, b"</div>" * 50, b"<script>", b"<meta charset=\"koi8-r\">", b"\"\\ud800\"", b"{\"a\":" * 50,
          b"\xc3\x28", b"\xed\xa0\x80", b"<link>javascript:alert(1)</link>", b"<item>", b"</item>",
          b"<a href=\"" + b"x" * 3000 + b"\">", "Привет".encode("cp1251"), "日本".encode("shift_jis")]


@st.composite
def mutated(draw, seeds=SEEDS) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.integers(0, 4))
        pos = draw(st.integers(0, len(data)))
        if op == 0:
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == 1 and data:
            data[pos:pos + draw(st.integers(1, 40))] = b""
        elif op == 2:
            data[pos:pos] = draw(st.binary(max_size=40))
        elif op == 3:
            del data[pos:]  # truncation
        elif op == 4 and data:
            other = draw(st.sampled_from(seeds))
            cut = draw(st.integers(0, len(other)))
            data[pos:] = other[cut:]  # splice
    return bytes(data)


inputs = st.one_of(st.binary(max_size=2000), mutated())
headers = st.sampled_from([{}, {"content-type": "application/rss+xml"}, {"content-type": "text/html"},
                           {"content-type": "application/xml; charset=windows-1251"},
                           {"content-type": "application/json"}, {"content-type": "text/xml; charset=utf-16"}])
charsets = st.sampled_from([None, "utf-8", "iso-8859-1", "windows-1251", "shift_jis", "bogus", "utf-16"])


def _encodable(value) -> None:
    """Every string in the result can be written as UTF-8 (Beam's coders and DuckDB need that)."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for k, v in value.items():
            _encodable(k)
            _encodable(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _encodable(v)


class Budget:
    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() > self.deadline


def _timed(fn, *args, **kwargs):
    started = time.monotonic()
    try:
        return fn(*args, **kwargs)
    finally:
        elapsed = time.monotonic() - started
        assert elapsed < MAX_SECONDS_PER_INPUT, f"{fn.__name__} took {elapsed:.1f}s on one input"


def test_fuzz_parse_feed():
    budget = Budget(BUDGET)

    @FUZZ
    @given(body=inputs, head=headers)
    def check(body, head):
        if budget.spent():
            return
        try:
            feed = _timed(parse_feed, body, head, base_url="http://fuzz.example/feed")
        except NotAFeed as err:
            assert err.reason in ("not_a_feed", "empty_feed", "xml_attack")
            return
        assert isinstance(feed["entries"], list)
        _encodable(feed)

    check()


def test_fuzz_decode_and_extract_page():
    budget = Budget(BUDGET)

    @FUZZ
    @given(body=inputs, charset=charsets, ctype=st.sampled_from([None, "text/html", "application/xhtml+xml",
                                                                   "text/plain", "application/octet-stream"]))
    def check(body, charset, ctype):
        if budget.spent():
            return
        try:
            html = _timed(decode_html, body, charset, ctype)
        except ExtractionError:
            return
        assert isinstance(html, str)
        _encodable(html)
        try:
            meta = _timed(extract_page, html, "http://fuzz.example/a/b", feed_title="Feed title")
        except ExtractionError:
            pass
        else:
            _encodable(meta)
        _encodable(_timed(page_signals, html))

    check()


def test_fuzz_page_signals_on_any_text():
    budget = Budget(BUDGET)

    @FUZZ
    @given(text=st.one_of(st.text(max_size=2000), mutated().map(lambda b: b.decode("utf-8", "replace"))))
    def check(text):
        if budget.spent():
            return
        signals = _timed(page_signals, text)
        assert set(signals._fields) >= {"page_lines", "caption_lines", "bylines", "structured_authors"}
        _encodable(signals)

    check()
