"""Sitemap bytes to entries: urlsets, indexes, Google News sitemaps, text sitemaps and robots.txt lines (no Beam).

Elements are matched by local name whatever their namespace: real sitemaps use the wrong
namespace, a prefix, or none at all. lxml reads them with entities, DTDs and the network off, and
in recover mode, so a file broken halfway still gives the entries before the break; the break is
reported as `problem` (reason, message) for a dead letter.
"""
from __future__ import annotations

import re
import typing
import zlib

from lxml import etree

from schemas.errors import Failure
from transforms.util.times import iso, parse_instant

GZIP_MAGIC = b"\x1f\x8b"
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"^https?://\S+$", re.I)


class SitemapError(Failure):
    """A sitemap that gives nothing at all: not a sitemap, corrupt gzip, empty, too large."""


class SitemapUrl(typing.NamedTuple):
    """One <url> of a urlset (loc None when it has none), with its Google News metadata if any."""

    loc: typing.Optional[str]
    lastmod: typing.Optional[str] = None  # UTC ISO instant, or None when absent or unreadable
    news_title: typing.Optional[str] = None
    news_published: typing.Optional[str] = None  # the raw news:publication_date text
    news_published_at: typing.Optional[str] = None  # the same as a UTC ISO instant
    news_keywords: tuple = ()
    news_publication: typing.Optional[str] = None
    news_language: typing.Optional[str] = None


class Sitemap(typing.NamedTuple):
    """A parsed sitemap: kind urlset | index | text; urls or children; problem when it broke halfway."""

    kind: str
    urls: tuple = ()  # SitemapUrl rows (urlset, text)
    children: tuple = ()  # (loc or None, lastmod) pairs (index)
    problem: typing.Optional[tuple] = None  # (reason, message): entries before the break are kept


def gunzip_if_needed(data: bytes, max_bytes: int) -> bytes:
    """The bytes, decompressed when they start with the gzip magic (whatever the name says), capped."""
    if not data.startswith(GZIP_MAGIC):
        return data
    decoder = zlib.decompressobj(31)
    try:
        out = decoder.decompress(data, max_bytes + 1)
    except zlib.error as err:
        raise SitemapError("gzip_corrupt", f"gzip data that will not decompress: {err}") from None
    if len(out) > max_bytes:
        raise SitemapError("too_large", f"the sitemap decompresses to more than {max_bytes} bytes")
    if not decoder.eof and not decoder.unconsumed_tail and len(out) == 0:
        raise SitemapError("gzip_corrupt", "gzip data that ends before any content")
    return out


def parse_sitemap(data: bytes, max_bytes: int = 50 * 1024 * 1024, max_urls: int = 50_000) -> Sitemap:
    """A urlset, a sitemapindex or a text sitemap from raw (maybe gzipped) bytes; raises SitemapError."""
    if len(data) > max_bytes:
        raise SitemapError("too_large", f"the sitemap is larger than {max_bytes} bytes")
    data = gunzip_if_needed(data, max_bytes)
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise SitemapError("empty_sitemap", "the sitemap is empty")
    if not stripped.startswith(b"<"):
        return _text_sitemap(stripped, max_urls)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True,
                             load_dtd=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(stripped, parser)
    except etree.XMLSyntaxError as err:
        raise SitemapError("not_a_sitemap", f"not XML: {err}") from None
    if root is None:
        raise SitemapError("not_a_sitemap", "no XML element could be read")
    problem = _first_error(parser)
    name = _local(root)
    if name == "urlset":
        urls = [_url(el) for el in root if _local(el) == "url"]
        return Sitemap("urlset", urls=tuple(urls[:max_urls]), problem=problem or _too_many(len(urls), max_urls))
    if name == "sitemapindex":
        children = [_child(el) for el in root if _local(el) == "sitemap"]
        return Sitemap("index", children=tuple(children[:max_urls]),
                       problem=problem or _too_many(len(children), max_urls))
    raise SitemapError("not_a_sitemap", f"the root element is <{name}>, not <urlset> or <sitemapindex>")


def robots_sitemaps(text: str) -> list:
    """The values of robots.txt `Sitemap:` lines, in order, as written (maybe relative, maybe repeated)."""
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "sitemap":
            value = value.split("#", 1)[0].strip()
            if value:
                out.append(value)
    return out


def _text_sitemap(data: bytes, max_urls: int) -> Sitemap:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines or not all(_URL.match(line) for line in lines[:20]):
        raise SitemapError("not_a_sitemap", "neither XML nor a text sitemap of one URL per line")
    return Sitemap("text", urls=tuple(SitemapUrl(loc=line) for line in lines[:max_urls]),
                   problem=_too_many(len(lines), max_urls))


def _first_error(parser) -> typing.Optional[tuple]:
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if not errors:
        return None
    first = errors[0]
    return ("sitemap_broken", f"not well-formed XML at line {first.line}: {first.message}; "
                              f"the entries read before the error are kept")


def _too_many(n: int, cap: int) -> typing.Optional[tuple]:
    return ("too_many_urls", f"{n} entries, more than the {cap} a sitemap may hold; the rest are ignored") \
        if n > cap else None


def _local(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    tag = tag.rpartition("}")[2]
    return tag.rpartition(":")[2] if ":" in tag else tag  # an undeclared prefix survives recover mode


def _text(el) -> typing.Optional[str]:
    if el is None:
        return None
    raw = el.text if len(el) == 0 else "".join(el.itertext())
    return " ".join(raw.split()) or None if raw else None


def _kids(el) -> dict:
    """Local name -> first child of that name: one pass over the children (sitemaps have 50,000 urls)."""
    out: dict = {}
    for child in el:
        out.setdefault(_local(child), child)
    return out


def _find(el, name: str):
    return _kids(el).get(name)


def _instant(value: typing.Optional[str]) -> typing.Optional[str]:
    if not value:
        return None
    try:
        moment = parse_instant(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return iso(moment) if moment is not None else None


def _url(el) -> SitemapUrl:
    kids = _kids(el)
    lastmod = _text(kids.get("lastmod"))
    news = kids.get("news")
    if news is None:
        return SitemapUrl(loc=_text(kids.get("loc")), lastmod=_instant(lastmod))
    news_kids = _kids(news)
    publication = news_kids.get("publication")
    published = _text(news_kids.get("publication_date"))
    keywords = _text(news_kids.get("keywords"))
    return SitemapUrl(
        loc=_text(kids.get("loc")),
        lastmod=_instant(lastmod),
        news_title=_text(news_kids.get("title")),
        news_published=published,
        news_published_at=_instant(published),
        news_keywords=tuple(k.strip() for k in (keywords or "").split(",") if k.strip()),
        news_publication=_text(_find(publication, "name")) if publication is not None else None,
        news_language=_text(_find(publication, "language")) if publication is not None else None,
    )


def _child(el) -> tuple:
    loc = _text(_find(el, "loc"))
    if loc is None:
        # crawler-commons' odd index: <sitemap> holding a bare URL and no <loc>.
        bare = _SPACE.sub(" ", el.text or "").strip()
        loc = bare if _URL.match(bare) else None
    return loc, _instant(_text(_find(el, "lastmod")))
