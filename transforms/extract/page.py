"""Extract an article's metadata and raw paragraphs from one decoded HTML page.

Plain Python (no Beam): the ExtractPage DoFn calls decode.decode_html() then extract_page(). Body
text comes from trafilatura on a lightly pre-processed copy of the tree (body.py); metadata comes
from the page's own head (meta tags, JSON-LD) and its headline element, which is what readers see
(metadata.py).
"""
from __future__ import annotations

from datetime import datetime, timezone

from transforms.extract import metadata
from transforms.extract.body import article_words, body_lines, drop_header_lines, header_texts
from transforms.extract.embedded import embedded_article_html
from transforms.extract.html import article_jsonld, parse
from transforms.extract.paywall import read_paywall
from transforms.extract.results import ExtractionError, PageMeta

# A page with fewer words of non-boilerplate text has no article (a one-line brief still has ~15).
_MIN_ARTICLE_WORDS = 8


def extract_page(html: str, url: str, *, feed_title=None, feed_summary=None, feed_published_at: str | None = None,
                 feed_categories=(), feed_authors=(), now: datetime | None = None) -> PageMeta:
    """Extract metadata and raw paragraphs (before cleaning) from one decoded HTML page.

    Raises ExtractionError ('empty_page', 'not_html', 'no_article_text') when the page has no article.
    """
    now = now or datetime.now(timezone.utc)
    tree = parse(html)
    meta = metadata.read_meta(tree)
    ld = article_jsonld(tree)
    title = metadata.choose_title(tree, meta, ld, feed_title)
    lines = drop_header_lines(body_lines(tree, url, ld), header_texts(tree, title))
    if article_words(lines) < _MIN_ARTICLE_WORDS:
        lines = _embedded_lines(tree, url, ld) or lines
    if article_words(lines) < _MIN_ARTICLE_WORDS:
        raise ExtractionError('no_article_text', f'no article text found at {url} ({len(lines)} lines)')
    published_at, published_source = metadata.published(html, url, meta, ld, feed_published_at, now)
    return PageMeta(
        title=title,
        description=metadata.description(meta, ld, feed_summary),
        authors=metadata.authors(meta, ld, feed_authors, tree),
        section=metadata.section(meta, ld, feed_categories),
        tags=metadata.tags(meta, ld, feed_categories),
        language=metadata.language(tree, meta, ld),
        published_at=published_at,
        published_at_source=published_source,
        canonical_url=metadata.canonical_url(tree, meta, url),
        raw_lines=lines,
        paywall=read_paywall(tree, ld),
    )


def _embedded_lines(tree, url: str, ld: dict) -> list[str]:
    """Paragraphs of the article HTML a script-drawn page carries in its data, through the same extractor."""
    fragment = embedded_article_html(tree)
    if not fragment:
        return []
    return body_lines(parse(f"<html><body><article>{fragment}</article></body></html>"), url, ld)
