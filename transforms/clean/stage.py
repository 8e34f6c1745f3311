"""CleanArticles: drop boilerplate lines from the body, keeping them aside for tagging; flag teaser bodies."""
from __future__ import annotations

import hashlib
import re
import unicodedata

import apache_beam as beam

from schemas.settings import Settings
from transforms.beam_common.dead_letters import emit_dead, guarded_pardo
from transforms.beam_common.metrics import counter
from transforms.clean.cleaning import LineCleaner, default_cleaner
from transforms.extract.paywall import teaser
from transforms.tag.registry import AgencyRegistry
from transforms.util.text import count_words

STAGE = "clean"
_WORD = re.compile(r"\w+", re.UNICODE)


def content_hash(body: str) -> str:
    """Hash of the body's words, so copies differing only in quotes, case or spacing hash equal."""
    text = unicodedata.normalize("NFKC", body).lower()
    return hashlib.sha256(" ".join(_WORD.findall(text)).encode("utf-8")).hexdigest()


class CleanDraft(beam.DoFn):
    """Keeps body paragraphs, sets word count, hash and teaser flag; dead-letters pages left without an article."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._cleaner = None

    def process(self, draft, registry_data=None):
        if self._cleaner is None:
            # Credit lines name the run's registry (the user's --agency-registry too), built once per copy.
            self._cleaner = (LineCleaner.for_registry(AgencyRegistry.from_data(registry_data))
                             if registry_data is not None else default_cleaner())
        kept, removed = self._cleaner.clean_lines(list(draft.raw_lines))
        body = "\n\n".join(kept)
        words = count_words(body)
        article = draft.article
        if words < self._settings.min_body_words:
            yield emit_dead(STAGE, "no_article_text",
                            f"only {words} words of article text left after cleaning "
                            f"(minimum {self._settings.min_body_words})",
                            url=article.url, feed_url=article.feed_url, payload=body)
            return
        truncated, why = teaser(body, words, article.is_accessible_for_free, draft.declared_word_count,
                                self._settings.paywall)
        counter(STAGE, "cleaned").inc()
        counter(STAGE, "lines_removed").inc(len(removed))
        if truncated:
            counter(STAGE, "truncated").inc()
        yield draft._replace(
            article=article._replace(body=body, word_count=words, content_hash=content_hash(body),
                                     truncated=truncated, truncated_reason=why),
            removed_lines=list(removed))


class CleanArticles(beam.PTransform):
    """Draft rows in; cleaned Draft rows out, plus a 'dead_letters' output.

    `registry` (a one-element PCollection of registry data, as TagArticles takes) names the
    agencies whose credit lines leave the body; without it, the bundled registry's.
    """

    def __init__(self, settings: Settings, registry=None):
        super().__init__()
        self._settings = settings
        self._registry = registry

    def expand(self, drafts):
        extra = [beam.pvalue.AsSingleton(self._registry)] if self._registry is not None else []
        return guarded_pardo(drafts, "Clean Drafts", STAGE, CleanDraft(self._settings), *extra, main="drafts")
