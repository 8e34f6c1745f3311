"""Feed bytes to entry dicts: feedparser for RSS and Atom, our own reader for JSON Feed."""
from __future__ import annotations

import calendar
import html
import datetime as dt
import json
import re

import feedparser

from transforms.common import iso

# feedparser 6.0 predates JSON Feed; 1.0 and 1.1 are small enough to read directly.
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


class NotAFeed(ValueError):
    """Bytes that are not a feed (an HTML login page, an empty body, a broken JSON document)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def parse_feed(body: bytes, headers: dict | None = None, base_url: str | None = None) -> dict:
    """{'title', 'entries': [...], 'salvaged': bool, 'format'}; raises NotAFeed."""
    headers = headers or {}
    if not body or not body.strip():
        raise NotAFeed("empty_feed", "the feed response body is empty")
    head = body.lstrip()[:1]
    ctype = (headers.get("content-type") or "").lower()
    if head == b"{" or "json" in ctype:
        return _parse_json_feed(body)
    return _parse_xml_feed(body, headers, base_url)


def _parse_xml_feed(body: bytes, headers: dict, base_url: str | None) -> dict:
    response_headers = dict(headers)
    if base_url:
        response_headers.setdefault("content-location", base_url)
    parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=True,
                              resolve_relative_uris=True)
    if not parsed.entries and (parsed.bozo or not parsed.version):
        sniff = body.lstrip()[:512].lower()
        what = "an HTML page" if (b"<html" in sniff or b"<!doctype html" in sniff) else "not RSS, Atom or JSON Feed"
        detail = f" ({type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')})" \
            if parsed.bozo else ""
        raise NotAFeed("not_a_feed", f"response is {what}{detail}")
    entries = [_xml_entry(e) for e in parsed.entries]
    return {"title": parsed.feed.get("title"), "entries": entries,
            "salvaged": bool(parsed.bozo), "format": parsed.version or "unknown"}


def _xml_entry(entry) -> dict:
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    authors = [a.get("name") for a in entry.get("authors", []) if a.get("name")]
    if not authors and entry.get("author"):
        authors = [entry.get("author")]
    return {
        "link": entry.get("link"),
        "guid": entry.get("id"),
        "title": _plain(entry.get("title")),
        "summary": _plain(entry.get("summary")),
        "published_at": iso(dt.datetime.fromtimestamp(calendar.timegm(published), dt.timezone.utc))
        if published else None,
        "authors": authors,
        "categories": [t.get("term") for t in entry.get("tags", []) if t.get("term")],
    }


def _parse_json_feed(body: bytes) -> dict:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotAFeed("not_a_feed", f"response looks like JSON but does not parse: {err}") from None
    if not isinstance(doc, dict) or not _JSON_FEED_VERSION.match(str(doc.get("version", ""))):
        raise NotAFeed("not_a_feed", "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise NotAFeed("not_a_feed", "JSON Feed has no items list")
    entries = [_json_entry(item) for item in items if isinstance(item, dict)]
    return {"title": doc.get("title"), "entries": entries,
            "salvaged": len(entries) != len(items), "format": "json" + str(doc["version"]).rsplit("/", 1)[-1]}


def _json_entry(item: dict) -> dict:
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    return {
        "link": item.get("url") or item.get("external_url"),
        "guid": str(item["id"]) if item.get("id") is not None else None,
        "title": _plain(item.get("title")),
        "summary": _plain(item.get("summary") or item.get("content_text") or item.get("content_html")),
        "published_at": _json_date(item.get("date_published") or item.get("date_modified")),
        "authors": [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")],
        "categories": [str(t) for t in item.get("tags") or [] if isinstance(t, (str, int))],
    }


def _json_date(value) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # RFC 3339 requires an offset; a naive time is not trusted
        return None
    return iso(moment)


def _plain(text) -> str | None:
    if not text:
        return None
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", str(text)))).strip() or None
