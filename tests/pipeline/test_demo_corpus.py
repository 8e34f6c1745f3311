"""Self-consistency of the demo corpus shipped in pipeline/demo_corpus (manifest, feeds, pages, serving)."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import pytest

import pipeline
from pipeline.corpus_server import CorpusServer, Route, route_key

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

CORPUS = Path(pipeline.__file__).parent / "demo_corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
FEEDS = MANIFEST["feeds"]
PAGES = MANIFEST["pages"]
HTML_PAGES = [p for p in PAGES if p["file"].endswith(".html")]
EXPECTED = MANIFEST["expected"]
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def feed_kind(feed: dict) -> str:
    ctype = feed["content_type"]
    return "json" if "json" in ctype else "atom" if "atom" in ctype else "rss"


def feed_links(feed: dict) -> list[tuple[str, dict]]:
    """(link, entry) pairs of a feed: feedparser for RSS/Atom, the JSON document for JSON Feed."""
    body = (CORPUS / feed["file"]).read_bytes()
    if feed_kind(feed) == "json":
        return [(item["url"], item) for item in json.loads(body)["items"]]
    parsed = feedparser.parse(body, response_headers={"content-type": feed["content_type"]})
    return [(entry.link, entry) for entry in parsed.entries]


def all_links() -> list[tuple[str, str]]:
    return [(feed["url"], link) for feed in FEEDS for link, _ in feed_links(feed)]


PAGE_URLS = {p["url"] for p in PAGES}
DEAD_LINKS = set(EXPECTED["dead_links"])


class PageParser(HTMLParser):
    """Collects head metadata, JSON-LD blocks and article paragraphs, and checks tag nesting."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.titles: list[str] = []
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []
        self.jsonld: list[str] = []
        self.paragraphs: list[str] = []
        self._text: list[str] | None = None
        self._capture: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta":
            key = a.get("property") or a.get("name")
            if key:
                self.meta[key] = a.get("content", "")
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical.append(a.get("href", ""))
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "title":
            self._capture, self._text = "title", []
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._capture, self._text = "jsonld", []
        elif tag == "p" and "article" in self.stack:
            self._capture, self._text = "p", []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            if tag in self.stack:
                while self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if self._capture and tag == {"title": "title", "jsonld": "script", "p": "p"}[self._capture]:
            text = "".join(self._text).strip()
            {"title": self.titles, "jsonld": self.jsonld, "p": self.paragraphs}[self._capture].append(text)
            self._capture, self._text = None, None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def parse_page(page: dict) -> PageParser:
    parser = PageParser()
    parser.feed((CORPUS / page["file"]).read_bytes().decode("utf-8"))
    parser.close()
    return parser


# ------------------------------------------------------------------ manifest

def test_manifest_files_exist_and_corpus_is_small():
    files = [f["file"] for f in FEEDS] + [p["file"] for p in PAGES]
    assert len(files) == len(set(files))
    for name in files:
        assert (CORPUS / name).is_file(), name
    assert (CORPUS / "README.md").is_file()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    assert total < 200 * 1024, total


def test_manifest_shape():
    assert {feed_kind(f) for f in FEEDS} == {"rss", "atom", "json"}
    assert len({f["name"] for f in FEEDS}) == 3
    for f in FEEDS:
        assert f["url"].startswith("http://") and urlsplit(f["url"]).hostname.endswith(".example")
    urls = [p["url"] for p in PAGES]
    assert len(urls) == len(set(urls)), "a URL is listed twice under pages"
    for p in PAGES:
        assert p["url"].startswith("http://") and urlsplit(p["url"]).hostname.endswith(".example")
        assert not urlsplit(p["url"]).query, "manifest page URLs are the clean (canonical) URLs"
    robots = [p for p in PAGES if urlsplit(p["url"]).path == "/robots.txt"]
    assert len(robots) == 1 and robots[0]["content_type"].startswith("text/plain")
    assert "Allow: /" in (CORPUS / robots[0]["file"]).read_text(encoding="utf-8")
    assert 12 <= len(HTML_PAGES) <= 16


def test_expected_counts_follow_from_page_labels():
    linked = {strip_query(link) for _, link in all_links()}
    fetched_ok = [p for p in HTML_PAGES if p["url"] in linked]
    assert len(fetched_ok) == len(HTML_PAGES), "every article page is reachable from a feed"
    assert EXPECTED["articles"] == len({p["url"] for p in fetched_ok})
    assert EXPECTED["dead_letters"] == len(DEAD_LINKS) == 1
    assert EXPECTED["stories"] == len({p["story"] for p in HTML_PAGES})
    agencies = Counter(p["agency"] for p in HTML_PAGES if p["agency"])
    assert EXPECTED["agencies"] == dict(agencies)
    assert EXPECTED["untagged"] == sum(1 for p in HTML_PAGES if not p["agency"])
    # the two wire stories appear on all three outlets, under one agency each
    per_story = Counter(p["story"] for p in HTML_PAGES)
    wire = [s for s, n in per_story.items() if n == 3]
    assert len(wire) == 2
    for story in wire:
        copies = [p for p in HTML_PAGES if p["story"] == story]
        assert len({urlsplit(p["url"]).hostname for p in copies}) == 3
        assert len({p["agency"] for p in copies}) == 1 and copies[0]["agency"]


# ------------------------------------------------------------------ feeds

@pytest.mark.parametrize("feed", [f for f in FEEDS if feed_kind(f) != "json"], ids=lambda f: f["file"])
def test_xml_feed_parses_cleanly(feed):
    parsed = feedparser.parse((CORPUS / feed["file"]).read_bytes(),
                              response_headers={"content-type": feed["content_type"]})
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if feed_kind(feed) == "atom" else "rss20")
    assert parsed.feed.title
    assert parsed.entries
    host = urlsplit(feed["url"]).hostname
    for entry in parsed.entries:
        assert entry.title and entry.link.startswith(f"http://{host}/")
        assert [t.term for t in entry.tags], entry.link
        raw = entry.get("published") or entry.get("updated")
        moment = parsedate_to_datetime(raw) if feed_kind(feed) == "rss" else datetime.fromisoformat(raw)
        assert moment.tzinfo is not None and (moment.year, moment.month) == (2026, 3), raw


def test_json_feed_is_valid_json_feed_1_1():
    (feed,) = [f for f in FEEDS if feed_kind(f) == "json"]
    doc = json.loads((CORPUS / feed["file"]).read_text(encoding="utf-8"))
    assert doc["version"] == JSON_FEED_VERSION
    assert isinstance(doc["title"], str) and doc["title"]
    assert doc["feed_url"] == feed["url"]
    assert doc["home_page_url"].startswith("http://")
    assert "author" not in doc, "1.1 uses 'authors'"
    for author in doc.get("authors", []):
        assert isinstance(author, dict) and ({"name", "url", "avatar"} & author.keys())
    assert isinstance(doc["items"], list) and doc["items"]
    ids = [item["id"] for item in doc["items"]]
    assert len(ids) == len(set(ids))
    host = urlsplit(feed["url"]).hostname
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
        assert item["url"].startswith(f"http://{host}/")
        assert isinstance(item["title"], str) and item["title"]
        moment = datetime.fromisoformat(item["date_published"])
        assert moment.tzinfo is not None and (moment.year, moment.month) == (2026, 3)
        assert item["tags"] and all(isinstance(t, str) for t in item["tags"])
        assert "author" not in item
        for author in item.get("authors", []):
            assert isinstance(author, dict) and ({"name", "url", "avatar"} & author.keys())


def test_feed_links_point_to_manifest_pages_except_the_dead_link():
    links = all_links()
    missing = {link for _, link in links if strip_query(link) not in PAGE_URLS}
    assert missing == DEAD_LINKS
    # exactly one link carries tracking parameters, and it maps to a listed page
    tracked = [link for _, link in links if urlsplit(link).query]
    assert len(tracked) == 1 and "utm_source=" in tracked[0] and strip_query(tracked[0]) in PAGE_URLS
    # exactly one URL is listed in two feeds
    seen = Counter(link for _, link in links)
    assert [n for n in seen.values() if n > 1] == [2]
    shared = [link for link, n in seen.items() if n == 2][0]
    assert len({feed for feed, link in links if link == shared}) == 2


def test_pipeline_feed_reader_accepts_every_feed():
    from transforms.feeds.parsing import parse_feed

    for feed in FEEDS:
        parsed = parse_feed((CORPUS / feed["file"]).read_bytes(), {"content-type": feed["content_type"]}, feed["url"])
        assert not parsed["salvaged"] and parsed["entries"], feed["file"]
        for entry in parsed["entries"]:
            assert entry["link"] and entry["title"] and entry["published_at"] and entry["categories"]


# ------------------------------------------------------------------ pages

@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda p: p["file"])
def test_page_is_utf8_html_with_metadata(page):
    raw = (CORPUS / page["file"]).read_bytes()
    text = raw.decode("utf-8")  # raises if not UTF-8
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in text
    parsed = parse_page(page)
    assert not parsed.errors, parsed.errors
    assert not parsed.stack, f"unclosed tags: {parsed.stack}"
    assert len(parsed.titles) == 1 and parsed.titles[0]
    for key in ("og:title", "description", "article:section", "article:published_time"):
        assert parsed.meta.get(key), key
    published = datetime.fromisoformat(parsed.meta["article:published_time"])
    assert published.tzinfo is not None and (published.year, published.month) == (2026, 3)
    assert len(parsed.canonical) == 1
    assert urljoin(page["url"], parsed.canonical[0]) == page["url"], "canonical resolves to the page URL"
    for block in parsed.jsonld:
        data = json.loads(block)
        assert data["@type"] == "NewsArticle" and data["headline"] and data["datePublished"]
    words = sum(len(re.findall(r"\w+", p)) for p in parsed.paragraphs)
    assert 150 <= words <= 450, words


def test_page_variants_are_present():
    canonicals = {p["url"]: parse_page(p).canonical[0] for p in HTML_PAGES}
    relative = [u for u, c in canonicals.items() if not c.startswith("http")]
    assert len(relative) == 1
    with_jsonld = [p for p in HTML_PAGES if parse_page(p).jsonld]
    assert 0 < len(with_jsonld) < len(HTML_PAGES)
    texts = {p["url"]: (CORPUS / p["file"]).read_text(encoding="utf-8") for p in HTML_PAGES}
    assert any("NEW DELHI, March 5 (PTI) —" in t for t in texts.values())
    assert any("WASHINGTON (AP) —" in t for t in texts.values())
    assert any(">By AP<" in t for t in texts.values())
    assert any("<p>IANS</p>" in t for t in texts.values())
    assert any('"author": {"@type": "Organization"' in t for t in texts.values())
    # the staff story that only mentions agencies is labelled with none
    mentions = [p for p in HTML_PAGES if "(Photo: PTI)" in texts[p["url"]]]
    assert len(mentions) == 1 and mentions[0]["agency"] is None
    assert "Reuters reported earlier" in texts[mentions[0]["url"]]
    assert "reports The New York Times" in texts[mentions[0]["url"]]
    # one page carries all the boilerplate inside its article container
    boiler = [p for p in HTML_PAGES if "Show comments" in texts[p["url"]]]
    assert len(boiler) == 1
    body = texts[boiler[0]["url"]].split("<article", 1)[1].split("</article>", 1)[0]
    for needle in ("Advertisement", ">X<", "Show comments", "Also Read:", "Share on Facebook"):
        assert needle in body, needle
    # two separate stories from the same agency on the same (local) day
    stories_by_agency_day: dict = {}
    for p in HTML_PAGES:
        if p["agency"]:
            day = parse_page(p).meta["article:published_time"][:10]
            stories_by_agency_day.setdefault((p["agency"], day), set()).add(p["story"])
    assert any(len(stories) >= 2 for stories in stories_by_agency_day.values())


# ------------------------------------------------------------------ serving

@pytest.fixture(scope="module")
def server():
    routes = {f["url"]: Route(path=CORPUS / f["file"], content_type=f["content_type"]) for f in FEEDS}
    routes.update({p["url"]: Route(path=CORPUS / p["file"], content_type=p["content_type"]) for p in PAGES})
    assert len(routes) == len(FEEDS) + len(PAGES)
    with CorpusServer(routes) as srv:
        yield srv


def fetch(server, url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.url}))
    with opener.open(url, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Type"), resp.read()


def test_server_serves_every_feed_and_page(server):
    for entry in FEEDS + PAGES:
        status, ctype, body = fetch(server, entry["url"])
        assert status == 200, entry["url"]
        assert ctype == entry["content_type"]
        assert body == (CORPUS / entry["file"]).read_bytes()


def test_server_serves_feed_links_and_404s_the_dead_one(server):
    for _, link in all_links():
        if link in DEAD_LINKS:
            with pytest.raises(urllib.error.HTTPError) as err:
                fetch(server, link)
            assert err.value.code == 404
        else:
            status, ctype, _ = fetch(server, link)
            assert status == 200 and ctype.startswith("text/html"), link
    dead = [r for r in server.requests if r[2] == 404]
    assert {(host, path) for host, path, _ in dead} == {route_key(u) for u in DEAD_LINKS}
