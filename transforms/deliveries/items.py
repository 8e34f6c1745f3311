"""Agency items as the parsers read them, their text as paragraphs, and the Draft each becomes (no Beam).

An item's text is in the item, so it skips fetch and extraction: `to_draft` builds the same Draft
that extraction builds for a page, with no page signals, the byline as a byline, and the
provider, credit line and copyright holder in `providers` for tagging (evidence of kind
'provider').
"""
from __future__ import annotations

import re
import typing
from urllib.parse import urlsplit

from lxml import etree, html

from schemas.errors import Failure
from schemas.types import Article, Draft
from transforms.feeds.urls import article_id, canonical_url, outlet_of
from transforms.util.times import iso, parse_instant, ts_of

BLOCK = frozenset({"p", "div", "li", "ul", "ol", "br", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
                   "tr", "td", "th", "blockquote", "pre", "figure", "figcaption", "hl1", "hl2", "block", "hedline",
                   "byline", "dateline", "table", "body.content", "body.end", "tagline"})
# Not text of the story: document heads, styling, and dpa's slug/date/headline <header>.
SKIP = frozenset({"style", "script", "head", "title", "header"})
# Item types whose text describes media rather than telling a story.
NOT_STORIES = frozenset({"picture", "graphic", "video", "audio"})
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_URN_DOMAIN = re.compile(r"^urn:newsml:([a-z0-9.-]+\.[a-z]{2,}):", re.I)


class DeliveryError(Failure):
    """A delivery or an item that gives no article: the reason and message of its dead letter."""


class AgencyItem(typing.NamedTuple):
    """One agency item, whatever its format, as far as wiredesk reads it."""

    format: str  # ninjs | newsml-g2 | newsml
    uri: typing.Optional[str]
    item_type: typing.Optional[str] = None  # text, picture, packageItem, ...
    version: typing.Optional[str] = None
    headline: typing.Optional[str] = None
    paragraphs: tuple = ()
    description: typing.Optional[str] = None
    byline: typing.Optional[str] = None
    located: typing.Optional[str] = None
    language: typing.Optional[str] = None
    first_created: typing.Optional[str] = None  # as written
    version_created: typing.Optional[str] = None  # as written
    keywords: tuple = ()
    providers: tuple = ()  # provider, credit line, copyright holder, info sources: who delivers it
    credit: tuple = ()  # (field, value) pairs exactly as the item states its credit
    problem: typing.Optional[tuple] = None  # (reason, message) when the item is unusable

    @property
    def body(self) -> str:
        return " ".join(self.paragraphs)


def ws(text) -> str:
    return _SPACE.sub(" ", text or "").strip()


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def tree_paragraphs(el) -> list:
    """Paragraphs of an XML/HTML element: block elements end one, SKIP elements are left out."""
    out: list = []
    buf: list = []

    def flush():
        text = ws("".join(buf))
        if text:
            out.append(text)
        buf.clear()

    def walk(e):
        name = local(e.tag).lower()
        if name in SKIP:
            return
        block = name in BLOCK
        if block:
            flush()
        if e.text and isinstance(e.tag, str):
            buf.append(e.text)
        for child in e:
            walk(child)
            if child.tail:
                buf.append(child.tail)
        if block:
            flush()

    walk(el)
    flush()
    return out


def html_paragraphs(markup: str) -> list:
    """Paragraphs of an HTML or XHTML string (a fragment or a whole document)."""
    if not markup or not markup.strip():
        return []
    try:
        root = html.fragment_fromstring(markup.strip(), create_parent="div")
    except (etree.ParserError, ValueError):
        return text_paragraphs(markup)
    return tree_paragraphs(root)


def text_paragraphs(text: str) -> list:
    """Paragraphs of plain text: one per non-blank line."""
    return [ws(line) for line in (text or "").splitlines() if ws(line)]


def secure_xml(data: bytes):
    """Parse XML with entities, DTDs and the network off; raises DeliveryError('not_xml')."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                             remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise DeliveryError("not_xml", f"not well-formed XML: {err}") from None


def to_draft(item: AgencyItem, feed_url: str, received_at: str, pipeline_version: str,
             agency_hint: typing.Optional[str] = None, min_words: int = 1) -> Draft:
    """The Draft an item becomes; raises DeliveryError for an item without an id or without text."""
    if item.problem:
        raise DeliveryError(*item.problem)
    if item.item_type in NOT_STORIES:
        raise DeliveryError("not_text", f"a {item.item_type} item: its text is a caption or a shot list, not a story")
    if not item.uri:
        raise DeliveryError("invalid_item", "the item has no uri / guid to identify it")
    words = len(_WORD.findall(item.body))
    if words < min_words:
        kind = item.item_type or "item"
        raise DeliveryError("no_text", f"the {kind} carries no article text ({words} words)")
    published, source = None, None
    for value in (item.first_created, item.version_created):
        try:
            moment = parse_instant(value)
        except (ValueError, TypeError, OverflowError):
            raise DeliveryError("invalid_date", f"unreadable item date {value!r}") from None
        if moment is not None:
            # An embargoed item can be dated ahead of its delivery; published_at is never in the future.
            published, source = min(iso(moment), received_at, key=ts_of), "item"
            break
    if published is None:
        published, source = received_at, "fetch"
    canonical = canonical_url(item.uri) if _is_web(item.uri) else item.uri.strip()
    article = Article(
        article_id=article_id(canonical),
        url=item.uri,
        canonical_url=canonical,
        feed_url=feed_url,
        outlet=_outlet(item),
        title=item.headline,
        description=item.description,
        authors=[item.byline] if item.byline else [],
        tags=list(item.keywords),
        language=(item.language or "")[:2].lower() or None,
        published_at=published,
        published_at_source=source,
        fetched_at=received_at,
        pipeline_version=pipeline_version,
        source_kind=item.format,
    )
    return Draft(article=article, raw_lines=list(item.paragraphs), bylines=[item.byline] if item.byline else [],
                 agency_hint=agency_hint, providers=list(item.providers))


def _is_web(uri: str) -> bool:
    return urlsplit(uri.strip()).scheme.lower() in ("http", "https")


def _outlet(item: AgencyItem) -> typing.Optional[str]:
    """The agency's domain when the id names one (urn:newsml:dpa.com:..., an http uri), else its provider."""
    match = _URN_DOMAIN.match(item.uri or "")
    if match:
        return match.group(1).lower()
    if _is_web(item.uri or ""):
        return outlet_of(item.uri)
    return item.providers[0].lower() if item.providers else None
