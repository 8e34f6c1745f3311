"""Feed bytes to entry dicts: feedparser for RSS and Atom, our own reader for JSON Feed."""
from __future__ import annotations

import calendar
import datetime as dt
import html
import json
import re

import feedparser
from feedparser.encodings import convert_to_utf8

from schemas.errors import Failure
from transforms.util.times import iso

# feedparser 6.0 predates JSON Feed; 1.0 and 1.1 are small enough to read directly.
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

# XML entity screening. feedparser keeps "safe" internal entities (no '&' in the value) and its
# loose fallback parser expands them itself, with no limit: a 10 KB entity referenced 2,000 times
# became a 20 MB title. Entities are screened before feedparser sees the bytes.
_FIRST_ELEMENT = re.compile(rb"<\w")
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s*)?([^\s>\"']+)\s*(.*?)>", re.S | re.I)
_QUOTED = re.compile(rb"^(\"[^\"]*\"|'[^']*')\s*$", re.S)
_CHAR_REF = re.compile(rb"&#(x[0-9a-f]+|[0-9]+);", re.I)
# Growth of the document that declared entities may cause when expanded, in bytes.
MAX_ENTITY_EXPANSION = 64 * 1024
MAX_ENTITY_DECLARATIONS = 64


class NotAFeed(Failure, ValueError):
    """Bytes that are not a feed (an HTML login page, an empty body, a broken JSON document)."""


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


def screen_xml(body: bytes, headers: dict | None = None) -> None:
    """Raise NotAFeed('xml_attack') for entity declarations that could fetch or blow up.

    Refused: external entities (SYSTEM/PUBLIC), parameter entities, entities whose value refers
    to another entity (billion laughs), more than MAX_ENTITY_DECLARATIONS declarations, and small
    entities referenced so often that expanding them would add more than MAX_ENTITY_EXPANSION
    bytes (quadratic blowup). A DOCTYPE naming an external DTD is harmless (nothing fetches it) and
    plain entities like <!ENTITY id "tag:example.com,"> pass. The bytes are screened in the same
    UTF-8 form feedparser parses, so a UTF-16 document cannot hide its declarations.
    """
    try:
        data = convert_to_utf8(dict(headers or {}), body, {})
    except (ValueError, LookupError):  # a junk encoding label (fuzzing found '<?encoding="\x80"?>')
        data = body
    if b"<!ENTITY" not in data.upper():
        return
    first = _FIRST_ELEMENT.search(data)
    head = data[: first.start()] if first else data
    decls = _ENTITY_DECL.findall(head)
    if not decls:
        if b"<!ENTITY" in head.upper():
            raise NotAFeed("xml_attack", "malformed <!ENTITY declaration in the DOCTYPE")
        return
    if len(decls) > MAX_ENTITY_DECLARATIONS:
        raise NotAFeed("xml_attack", f"{len(decls)} entity declarations (cap {MAX_ENTITY_DECLARATIONS})")
    growth = 0
    for percent, name, rest in decls:
        shown = name.decode("utf-8", "replace")[:50]
        if percent:
            raise NotAFeed("xml_attack", f"parameter entity %{shown} declared")
        if not _QUOTED.match(rest):
            raise NotAFeed("xml_attack", f"external or malformed entity {shown!r} (SYSTEM/PUBLIC are refused)")
        value = rest.strip()[1:-1]
        if b"&" in _CHAR_REF.sub(b"", value) or b"%" in value:
            raise NotAFeed("xml_attack", f"entity {shown!r} refers to other entities (billion laughs)")
        uses = data.count(b"&" + name + b";")
        growth += max(len(value) - len(name) - 2, 0) * uses
        if growth > MAX_ENTITY_EXPANSION:
            raise NotAFeed("xml_attack", f"entity {shown!r} used {uses} times would expand the feed by more "
                                         f"than {MAX_ENTITY_EXPANSION} bytes (quadratic blowup)")


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_XML_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2", re.I)
_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*[^;]*", re.I)


def normalize_encoding(body: bytes, headers: dict) -> tuple[bytes, dict]:
    """(UTF-8 bytes, headers saying so) when the bytes prove their encoding; else unchanged.

    - A byte order mark wins over any label (feedparser rejected BOM'd UTF-16 without a declaration).
    - Strictly valid, non-ASCII UTF-8 wins over a legacy label (windows-1251, koi8-r, latin-1, ...):
      legacy text is practically never valid UTF-8, while a wrong label on UTF-8 is common, and
      single-byte codecs decode anything, so trusting the label would write mojibake silently.
    Bytes that are not valid UTF-8 keep their label and feedparser's own fallbacks.
    """
    text = None
    for bom, codec in _BOMS:
        if body.startswith(bom):
            try:
                text = body[len(bom):].decode(codec)
            except UnicodeDecodeError:
                return body, headers
            break
    if text is None:
        if body.isascii():
            return body, headers
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body, headers
        if _declared_codec(body, headers) in (None, "utf-8"):
            return body, headers
    data = _XML_DECL.sub(rb'\1"utf-8"', text.encode("utf-8"), count=1)
    fixed = dict(headers)
    ctype = fixed.get("content-type") or "application/xml"
    fixed["content-type"] = _CHARSET_PARAM.sub("", ctype) + "; charset=utf-8"
    return data, fixed


def _declared_codec(body: bytes, headers: dict) -> str | None:
    import codecs

    labels = [_CHARSET_PARAM.search(headers.get("content-type") or "")]
    found = [m.group(0).split("=", 1)[1].strip().strip("\"'") for m in labels if m]
    decl = re.match(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)", body[:200], re.I)
    if decl:
        found.append(decl.group(1).decode("ascii", "replace"))
    for label in found:
        try:
            name = codecs.lookup(label).name
        except LookupError:
            continue
        if name != "utf-8":
            return name
    return "utf-8" if found else None


# Character references to code points no text may hold: UTF-16 surrogates and beyond U+10FFFF.
_CHAR_REF_ANY = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")


def _replace_impossible_char_refs(body: bytes) -> bytes:
    """&#xD800; and friends become U+FFFD: feedparser's fallback parser crashed on them (UnicodeEncodeError)."""
    if b"&#" not in body:
        return body

    def fix(match):
        value = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        return b"&#xFFFD;" if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF else match.group(0)

    return _CHAR_REF_ANY.sub(fix, body)


def _parse_xml_feed(body: bytes, headers: dict, base_url: str | None) -> dict:
    body, headers = normalize_encoding(body, headers)
    if not body.strip():  # a byte order mark and nothing else (fuzzing found it)
        raise NotAFeed("empty_feed", "the feed response holds no text")
    screen_xml(body, headers)
    body = _replace_impossible_char_refs(body)
    response_headers = dict(headers)
    if base_url:
        response_headers.setdefault("content-location", base_url)
    try:
        parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=True,
                                  resolve_relative_uris=True)
    except Exception as err:  # noqa: BLE001 - feedparser crashing on bytes means: not a feed we can read
        # Fuzzing found feedparser raising on junk encoding labels (UnicodeDecodeError, "embedded null
        # character"); such a feed is unreadable, which is a reason, not an unexpected error.
        raise NotAFeed("not_a_feed", f"the feed parser failed on this document ({type(err).__name__}: "
                                     f"{str(err)[:200]})") from None
    if not parsed.get("entries") and (parsed.get("bozo") or not parsed.get("version")):
        sniff = body.lstrip()[:512].lower()
        what = "an HTML page" if (b"<html" in sniff or b"<!doctype html" in sniff) else "not RSS, Atom or JSON Feed"
        detail = f" ({type(parsed.get('bozo_exception')).__name__}: {parsed.get('bozo_exception')})" \
            if parsed.bozo else ""
        raise NotAFeed("not_a_feed", f"response is {what}{detail}")
    entries = [_xml_entry(e) for e in parsed.get("entries") or []]
    return {"title": (parsed.get("feed") or {}).get("title"), "entries": entries,
            "salvaged": bool(parsed.get("bozo")), "format": parsed.get("version") or "unknown"}


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
        doc = _no_lone_surrogates(json.loads(body.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotAFeed("not_a_feed", f"response looks like JSON but does not parse: {err}") from None
    except RecursionError:
        raise NotAFeed("not_a_feed", "JSON nested too deeply") from None
    if not isinstance(doc, dict) or not _JSON_FEED_VERSION.match(str(doc.get("version", ""))):
        raise NotAFeed("not_a_feed", "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise NotAFeed("not_a_feed", "JSON Feed has no items list")
    entries = [_json_entry(item) for item in items if isinstance(item, dict)]
    return {"title": doc.get("title"), "entries": entries,
            "salvaged": len(entries) != len(items), "format": "json" + str(doc["version"]).rsplit("/", 1)[-1]}


def _no_lone_surrogates(value):
    """JSON may escape a lone surrogate ("\\ud800"); such text cannot be encoded as UTF-8 downstream."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(value) else value
    if isinstance(value, list):
        return [_no_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_no_lone_surrogates(k): _no_lone_surrogates(v) for k, v in value.items()}
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
