"""ExtractArticles: page bytes to article text, metadata and the signals tagging needs."""
from __future__ import annotations

import apache_beam as beam

from schemas.settings import Settings
from schemas.types import Article, Draft
from transforms.beam_common.dead_letters import emit_dead, guarded_pardo
from transforms.beam_common.metrics import counter
from transforms.extract.results import ExtractionError
from transforms.feeds.urls import article_id, outlet_of, pick_canonical

STAGE = "extract"


class ExtractPage(beam.DoFn):
    """Decodes a page once, parses it once, and reads its text, metadata and credit signals from that tree."""

    def __init__(self, settings: Settings):
        self._settings = settings

    def setup(self):
        # Imported here, not per element: trafilatura and its dependencies load once per worker.
        from transforms.extract.decode import decode_html
        from transforms.extract.page import read_page

        self._decode, self._read = decode_html, read_page

    def process(self, page):
        entry = page.entry
        try:
            html = self._decode(page.body, page.charset, page.content_type)
            meta, signals = self._read(
                html, page.final_url,
                feed_title=entry.title, feed_summary=entry.summary, feed_published_at=entry.published_at,
                feed_categories=tuple(entry.categories or ()), feed_authors=tuple(entry.authors or ()))
        except ExtractionError as err:
            yield emit_dead(STAGE, err.reason, err.message, url=entry.url, feed_url=entry.feed_url,
                            payload=page.body, attempt=page.attempts)
            return
        canonical = pick_canonical(page.final_url, meta.canonical_url)
        published_at = meta.published_at
        source = meta.published_at_source
        if not published_at:
            published_at, source = page.fetched_at, "fetch"
        elif source == "feed" and entry.source_kind == "sitemap":
            source = "sitemap"  # the hint came from news:publication_date
        article = Article(
            article_id=article_id(canonical),
            url=entry.url,
            canonical_url=canonical,
            feed_url=entry.feed_url,
            outlet=outlet_of(canonical),
            title=meta.title or entry.title,
            description=meta.description or entry.summary,
            authors=list(meta.authors or entry.authors or []),
            section=meta.section,
            tags=list(meta.tags),
            language=meta.language,
            published_at=published_at,
            published_at_source=source,
            fetched_at=page.fetched_at,
            pipeline_version=self._settings.pipeline_version,
            is_accessible_for_free=meta.paywall.is_accessible_for_free,
            paywall_evidence=meta.paywall.evidence,
            source_kind=entry.source_kind or "feed",
        )
        counter(STAGE, "extracted").inc()
        yield Draft(
            article=article,
            raw_lines=list(meta.raw_lines),
            page_lines=list(signals.page_lines),
            caption_lines=list(signals.caption_lines),
            bylines=list(signals.bylines),
            structured_authors=list(signals.structured_authors),
            agency_hint=entry.agency_hint,
            declared_word_count=meta.paywall.declared_word_count,
        )


class ExtractArticles(beam.PTransform):
    """Page rows in; Draft rows out, plus a 'dead_letters' output for pages with no article."""

    def __init__(self, settings: Settings):
        super().__init__()
        self._settings = settings

    def expand(self, pages):
        return guarded_pardo(pages, "Extract Pages", STAGE, ExtractPage(self._settings), main="drafts")
