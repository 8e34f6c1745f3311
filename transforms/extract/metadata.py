"""An article's metadata from its page: title, description, section, tags, language, canonical URL, date.

Plain Python over the lxml tree. Values come from the page's head (meta tags, the article's
JSON-LD object, read strictly) and from its headline element, which is what readers see; the feed
entry's values are the last resort. Authors are authors.py's.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urljoin

from transforms.extract import dates
from transforms.extract.html import clean_text, element_text, norm_key
from transforms.util.times import iso

_LANG_RE = re.compile(r'^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$')
_TITLE_SEPARATORS_RE = re.compile(r'\s+(?:[|–—-]|::|»)\s+')
_META_DATE_KEYS = ('article:published_time', 'og:article:published_time', 'article.published',
                   'publish-date', 'publish_date', 'pubdate', 'datepublished', 'date', 'dc.date',
                   'dc.date.issued', 'dcterms.created', 'sailthru.date', 'parsely-pub-date',
                   'cxenseparse:recs:publishtime', 'originalpublicationdate')
# Site names after a title separator are short; longer tails belong to the headline.
_MAX_BRAND_CHARS = 30


# ---------------------------------------------------------------------------
# Head metadata: meta tags and JSON-LD values
# ---------------------------------------------------------------------------
def read_meta(tree) -> dict[str, list[str]]:
    """All <meta> values keyed by lower-cased property/name/itemprop/http-equiv, in document order."""
    found: dict[str, list[str]] = {}
    for el in tree.iter('meta'):
        key = el.get('property') or el.get('name') or el.get('itemprop') or el.get('http-equiv')
        value = el.get('content')
        if key and value and value.strip():
            found.setdefault(key.strip().lower(), []).append(clean_text(value))
    return found


def first_meta(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key][0]
    return None


def ld_text(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get('name') or value.get('@value')
    return (clean_text(value) or None) if isinstance(value, str) else None


def dedupe(values) -> list[str]:
    seen, out = set(), []
    for value in values:
        key = norm_key(value)
        if key and key not in seen:
            seen.add(key)
            out.append(value)
    return out


# ---------------------------------------------------------------------------
# Title, description and other fields
# ---------------------------------------------------------------------------
def _title_candidates_from_head(tree, meta: dict, ld: dict) -> list[str]:
    title_el = tree.find('.//title')
    values = [
        first_meta(meta, 'og:title'), first_meta(meta, 'twitter:title'), ld_text(ld.get('headline')),
        first_meta(meta, 'title', 'headline'), element_text(title_el) if title_el is not None else None,
    ]
    return [v for v in values if v]


def _matches_head(text: str, head_titles: list[str]) -> bool:
    key = norm_key(text)
    return bool(key) and any(key == norm_key(h) or norm_key(h).startswith(key) for h in head_titles)


def _headline_elements(tree) -> tuple[list[str], list[str]]:
    """Visible headline candidates: h1s first, then h2s (legacy layouts put the headline in an h2)."""
    h1 = [element_text(el) for el in tree.iter('h1')]
    h2 = [element_text(el) for el in tree.iter('h2')]
    return [t for t in h1 if t], [t for t in h2 if t]


def choose_title(tree, meta: dict, ld: dict, feed_title: str | None = None) -> str | None:
    """The title most of the page's own sources agree on; else an h1 confirmed by the head, else the best head title."""
    head = _title_candidates_from_head(tree, meta, ld)
    h1s, h2s = _headline_elements(tree)
    agreed = _agreed_title(tree, meta, ld, h1s)
    if agreed:
        return agreed
    for text in h1s + h2s:
        if _matches_head(text, head):
            return text
    # Outlets rewrite the headline in the page but keep og:title stale, so an unconfirmed
    # article h1 still beats the head; a site-logo h1 is short and matches the site name.
    site = norm_key(first_meta(meta, 'og:site_name'))
    for text in h1s:
        if len(text.split()) >= 3 and norm_key(text) != site:
            return text
    for text in head:
        stripped = _strip_site_name(text, site)
        if len(stripped.split()) >= 3:
            return stripped
    return feed_title or (head[0] if head else None)


def _agreed_title(tree, meta: dict, ld: dict, h1s: list[str]) -> str | None:
    """The title that more of the first h1, og:title, the JSON-LD headline and <title> (site name removed) give
    than any other, when at least two agree; None when they do not.

    Each source is wrong on some sites (a kicker in the h1, a stale or SEO og:title, a section in <title>),
    and rarely the same way on the same page, so a majority outvotes the one that departs.
    """
    title_el = tree.find('.//title')
    page_title = element_text(title_el) if title_el is not None else None
    sources = [h1s[0] if h1s else None, first_meta(meta, 'og:title'), ld_text(ld.get('headline')),
               _strip_brand(page_title, _brand_names(meta, ld)) if page_title else None]
    # og:title and <title> may carry the site or section after the headline the h1 or JSON-LD gives.
    # They are not stripped against each other: both are the SEO title, and would then outvote the h1.
    confirmed = [sources[0], sources[2]]
    sources = [sources[0], _without_tail(sources[1], confirmed), sources[2], _without_tail(sources[3], confirmed)]
    votes: dict[str, list[str]] = {}
    for text in sources:
        if text and norm_key(text):
            votes.setdefault(norm_key(text), []).append(text)
    ranked = sorted((len(texts) for texts in votes.values()), reverse=True)
    if not ranked or ranked[0] < 2 or (len(ranked) > 1 and ranked[1] == ranked[0]):
        return None
    return next(texts[0] for texts in votes.values() if len(texts) == ranked[0])


# What a head title adds after the headline: a separator, then the site or section ('-Politics|Site').
_TAIL_RE = re.compile(r'\s*[|–—\-·•»]')


def _without_tail(text: str | None, headlines: list) -> str | None:
    """The headline `text` is, plus a short tail after a separator ('Headline-Section|Site'), else `text`.

    A head title the h1 shows whole keeps its tail: the tail is then part of the headline."""
    key = norm_key(text)
    if not key or key == norm_key(headlines[0]):
        return text
    for other in headlines:
        head = norm_key(other)
        tail = key[len(head):]
        if head and key.startswith(head) and 0 < len(tail) <= _MAX_BRAND_CHARS and _TAIL_RE.match(tail):
            return other
    return text


def _brand_names(meta: dict, ld: dict) -> set[str]:
    """Comparison keys of the names the page gives its site: og:site_name, application-name, JSON-LD publisher."""
    names = {first_meta(meta, 'og:site_name'), first_meta(meta, 'application-name'), ld_text(ld.get('publisher'))}
    return {_squash(n) for n in names if n and _squash(n)}


def _squash(text: str) -> str:
    return ''.join(ch for ch in norm_key(text) if ch.isalnum())


def _strip_brand(text: str, brands: set[str]) -> str:
    """'Headline | Site Name' -> 'Headline' when the last part is the site's own name ('- Report' stays)."""
    last = next(reversed(list(_TITLE_SEPARATORS_RE.finditer(text))), None)
    if last is not None and _squash(text[last.end():]) in brands:
        return text[:last.start()]
    return text


def _strip_site_name(text: str, site: str) -> str:
    """'Headline | Site Name' -> 'Headline'; a long last part is part of the headline, not a brand."""
    parts = _TITLE_SEPARATORS_RE.split(text)
    if len(parts) > 1 and (norm_key(parts[-1]) == site or len(parts[-1]) < _MAX_BRAND_CHARS):
        return ' - '.join(parts[:-1]) if len(parts) > 2 else parts[0]
    return text


def description(meta: dict, ld: dict, feed_summary: str | None) -> str | None:
    return (first_meta(meta, 'description', 'og:description', 'twitter:description', 'dc.description')
            or ld_text(ld.get('description')) or (clean_text(feed_summary) or None))


def section(meta: dict, ld: dict, feed_categories) -> str | None:
    return (first_meta(meta, 'article:section', 'section', 'og:article:section', 'parsely-section')
            or ld_text(ld.get('articleSection'))
            or next((clean_text(c) for c in feed_categories or () if isinstance(c, str) and c.strip()), None))


def tags(meta: dict, ld: dict, feed_categories) -> list[str]:
    tags = list(meta.get('article:tag', [])) + list(meta.get('og:article:tag', []))
    for raw in meta.get('news_keywords', []) + meta.get('keywords', []):
        tags.extend(t.strip() for t in raw.split(','))
    keywords = ld.get('keywords')
    if isinstance(keywords, str):
        tags.extend(t.strip() for t in keywords.split(','))
    elif isinstance(keywords, list):
        tags.extend(k for k in keywords if isinstance(k, str))
    tags.extend(c for c in feed_categories or () if isinstance(c, str))
    return dedupe(clean_text(t) for t in tags if t and t.strip())


def language(tree, meta: dict, ld: dict) -> str | None:
    for value in (tree.get('lang'), tree.get('xml:lang'), first_meta(meta, 'content-language', 'og:locale',
                                                                      'language', 'dc.language'),
                  ld_text(ld.get('inLanguage'))):
        match = _LANG_RE.match((value or '').strip())
        if match and len(match.group(1)) == 2:
            return match.group(1).lower()
    return None


def canonical_url(tree, meta: dict, url: str) -> str | None:
    for link in tree.iter('link'):
        rels = (link.get('rel') or '').lower().split()
        if 'canonical' in rels and (link.get('href') or '').strip():
            return urljoin(url, link.get('href').strip())
    og_url = first_meta(meta, 'og:url')
    return urljoin(url, og_url) if og_url else None


def published(html: str, url: str, meta: dict, ld: dict, feed_published_at,
              now: datetime) -> tuple[str | None, str | None]:
    """(ISO publication time, its source) chosen among feed, JSON-LD, meta and URL dates, else visible text."""
    ld_date = ld.get('datePublished')
    candidates = [dates.candidate('feed', feed_published_at),
                  dates.candidate('jsonld', ld_text(ld_date) if not isinstance(ld_date, str) else ld_date)]
    candidates += [dates.candidate('meta', meta[key][0]) for key in _META_DATE_KEYS if meta.get(key)]
    candidates.append(dates.date_from_url(url))
    chosen = dates.choose_published(candidates, now)
    if chosen is None:
        chosen = dates.choose_published([_date_from_text(html, now)], now)
    return (iso(chosen.value, whole_seconds=True), chosen.source) if chosen else (None, None)


def _date_from_text(html: str, now: datetime):
    """Last resort: htmldate's visible-text heuristics, day precision only."""
    import htmldate  # Imported lazily: only pages without any structured date pay for it.
    found = htmldate.find_date(html, extensive_search=True, original_date=True,
                               max_date=now.strftime('%Y-%m-%d'))
    return dates.candidate('text', found) if found else None
