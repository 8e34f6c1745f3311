"""Extract an article's metadata, raw paragraphs and credit signals from one decoded HTML page.

Plain Python (no Beam): the ExtractPage DoFn calls decode.decode_html() then read_page(), which
parses the page once and shares the tree. Body text comes from trafilatura on a lightly
pre-processed copy of the tree (body.py); metadata comes from the page's own head (meta tags,
JSON-LD) and its headline element, which is what readers see (metadata.py); the credit signals
come from the same tree (signals.py).
"""
from __future__ import annotations

from datetime import datetime, timezone

from transforms.extract import metadata
from transforms.extract.authors import page_authors
from transforms.extract.body import article_words, body_lines, drop_header_lines, header_texts
from transforms.extract.embedded import embedded_article_html
from transforms.extract.html import article_jsonld, parse
from transforms.extract.paywall import read_paywall
from transforms.extract.results import ExtractionError, PageMeta, PageSignals
from transforms.extract.signals import page_signals

# A page with fewer words of non-boilerplate text has no article (a one-line brief still has ~15).
_MIN_ARTICLE_WORDS = 8


def read_page(html: str, url: str, **feed) -> tuple[PageMeta, PageSignals]:
    """extract_page() and page_signals() of one page from a single parse of it.

    `feed` takes extract_page's keyword arguments. Raises ExtractionError like extract_page().
    """
    tree = parse(html)
    meta = extract_page(html, url, tree=tree, **feed)
    return meta, page_signals(tree)


def extract_page(html: str, url: str, *, feed_title=None, feed_summary=None, feed_published_at: str | None = None,
                 feed_categories=(), feed_authors=(), now: datetime | None = None, tree=None) -> PageMeta:
    """Extract metadata and raw paragraphs (before cleaning) from one decoded HTML page.

    `tree` is the page already parsed by html.parse (it is read, never changed). Raises
    ExtractionError ('empty_page', 'not_html', 'no_article_text') when the page has no article.
    """
    now = now or datetime.now(timezone.utc)
    tree = parse(html) if tree is None else tree
    meta = metadata.read_meta(tree)
    ld = article_jsonld(tree)
    title = metadata.choose_title(tree, meta, ld, feed_title)
    lines = drop_header_lines(body_lines(tree, url, ld), header_texts(tree, title))
    if not has_article_text(lines):  # counted once: a page with enough words skips the second count
        lines = _embedded_lines(tree, url, ld) or lines
        check_article_text(lines, url)
    published_at, published_source = metadata.published(html, url, meta, ld, feed_published_at, now)
    return PageMeta(
        title=title,
        description=metadata.description(meta, ld, feed_summary),
        authors=page_authors(meta, ld, feed_authors, tree, url),
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


def has_article_text(lines: list[str]) -> bool:
    """Enough words outside boilerplate lines to be an article."""
    return article_words(lines, enough=_MIN_ARTICLE_WORDS) >= _MIN_ARTICLE_WORDS


def check_article_text(lines: list[str], url: str) -> None:
    """ExtractionError('no_article_text') when the lines hold too few words to be an article."""
    if not has_article_text(lines):
        raise ExtractionError('no_article_text', f'no article text found at {url} ({len(lines)} lines)')
