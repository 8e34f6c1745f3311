"""What reading a page gives back: its metadata, its credit signals, or a reasoned failure."""
from __future__ import annotations

from typing import NamedTuple

from schemas.errors import Failure

REASONS = ('empty_page', 'not_html', 'binary_content', 'pdf', 'no_article_text', 'undecodable')


class ExtractionError(Failure):
    """A page that cannot yield an article; `reason` is a stable code for dead letters and counters."""

    def __init__(self, reason: str, message: str = ''):
        if reason not in REASONS:
            raise ValueError(f'unknown extraction failure reason {reason!r}')
        super().__init__(reason, message or reason)
        # str(err) names the reason too: 'pdf: PDF document (...)', or just 'pdf'.
        self.args = (f'{reason}: {message}' if message else reason,)


class PageMeta(NamedTuple):
    """An article's metadata and raw paragraphs (before cleaning), as extract_page() reads them."""

    title: str | None
    description: str | None
    authors: list[str]
    section: str | None
    tags: list[str]
    language: str | None  # two-letter code
    published_at: str | None  # ISO 8601, UTC
    published_at_source: str | None  # 'feed', 'jsonld', 'meta', 'url' or 'text'
    canonical_url: str | None
    raw_lines: list[str]
    paywall: object = None  # paywall.Paywall: what the page declares about its paywall


class PageSignals(NamedTuple):
    """What the tagging rules read from a page's markup besides the extracted body (see signals.py)."""

    page_lines: list[str]  # visible lines in document order, without chrome and captions
    caption_lines: list[str]  # figure captions and photo credits
    bylines: list[str]  # author meta tags, then byline/author/source-labelled elements
    structured_authors: list[str]  # JSON-LD authors and providers, then provider blocks
