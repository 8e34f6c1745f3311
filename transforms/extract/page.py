"""Decode fetched bytes and extract an article's metadata and paragraphs from its HTML.

Plain Python (no Beam): the ExtractArticles DoFn calls decode_html() then extract_page(). Body
text comes from trafilatura on a lightly pre-processed copy of the tree; metadata comes from the
page's own head (meta tags, JSON-LD) and its headline element, which is what readers see.
"""
from __future__ import annotations

import codecs
import copy
import functools
import html as html_lib
import json
import re
from datetime import datetime, timezone
from urllib.parse import urljoin

import charset_normalizer
import lxml.html
import trafilatura
from lxml import etree

from transforms.extract import dates
from transforms.clean.cleaning import is_boilerplate, normalise_whitespace

# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
REASONS = ('empty_page', 'not_html', 'binary_content', 'pdf', 'no_article_text', 'undecodable')


class ExtractionError(Exception):
    """A page that cannot yield an article; `reason` is a stable code for dead letters and counters."""

    def __init__(self, reason: str, message: str = ''):
        if reason not in REASONS:
            raise ValueError(f'unknown extraction failure reason {reason!r}')
        super().__init__(f'{reason}: {message}' if message else reason)
        self.reason = reason
        self.message = message or reason


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------
_BOMS = (
    (codecs.BOM_UTF32_LE, 'utf-32-le'), (codecs.BOM_UTF32_BE, 'utf-32-be'),
    (codecs.BOM_UTF8, 'utf-8'), (codecs.BOM_UTF16_LE, 'utf-16-le'), (codecs.BOM_UTF16_BE, 'utf-16-be'),
)
# Magic numbers of formats that servers sometimes label text/html.
_BINARY_MAGIC = (
    b'\x89PNG', b'GIF87a', b'GIF89a', b'\xff\xd8\xff', b'PK\x03\x04', b'\x1f\x8b', b'BZh', b'7z\xbc\xaf',
    b'Rar!', b'RIFF', b'OggS', b'ID3', b'\x00\x00\x00\x18ftyp', b'\x00\x00\x00\x20ftyp', b'wOFF', b'wOF2',
    b'\x7fELF', b'MZ', b'\xd0\xcf\x11\xe0',
)
_HTML_CONTENT_TYPES = ('text/html', 'application/xhtml+xml', 'text/plain', 'application/xml', 'text/xml')
_NON_HTML_PREFIXES = ('image/', 'audio/', 'video/', 'font/', 'application/octet-stream', 'application/zip',
                      'application/gzip', 'application/x-', 'application/vnd.', 'application/msword',
                      'application/json', 'application/javascript', 'text/css', 'text/javascript')
_META_CHARSET_RE = re.compile(
    rb'<meta[^>]+?charset\s*=\s*["\']?\s*([a-zA-Z0-9_:.\-]+)', re.IGNORECASE)
_XML_DECL_ENCODING_RE = re.compile(rb'^\s*<\?xml[^>]+encoding\s*=\s*["\']([a-zA-Z0-9_.\-]+)', re.IGNORECASE)
# A charset that maps (nearly) every single byte to a character is a single-byte charset.
_MAX_UNDEFINED_BYTES = 48
# Printable text has few control characters; a decode full of them used the wrong codec.
_CONTROL_RE = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]')
_MAX_CONTROL_RATIO = 0.01
_SNIFF_BYTES = 4096


def decode_html(body: bytes, charset: str | None, content_type: str | None) -> str:
    """Decode an HTTP body to text: BOM, then HTTP charset, then <meta charset>, then UTF-8, then detection.

    A declared charset is only used when it decodes the bytes cleanly and plausibly; otherwise the
    next source is tried. Raises ExtractionError for PDFs, binary payloads and undecodable bytes.
    """
    if not body or not body.strip():
        raise ExtractionError('empty_page', 'response body is empty')
    _reject_non_html(body, content_type)
    bom_text = _decode_bom(body)
    if bom_text is not None:
        return bom_text
    if b'\x00' in body[:_SNIFF_BYTES]:
        raise ExtractionError('binary_content', 'NUL bytes in a body without a UTF-16/32 byte order mark')
    for label in (charset, _sniff_declared_charset(body)):
        text = _try_declared(body, label)
        if text is not None:
            return text
    text = _try_codec(body, 'utf-8')
    if text is not None:
        return text
    return _detect(body)


def _reject_non_html(body: bytes, content_type: str | None) -> None:
    head = body[:1024].lstrip()
    media = (content_type or '').split(';')[0].strip().lower()
    if head.startswith(b'%PDF') or media == 'application/pdf':
        raise ExtractionError('pdf', f'PDF document (content type {media or "unknown"})')
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        raise ExtractionError('binary_content', f'binary file signature {head[:8]!r}')
    if media and media not in _HTML_CONTENT_TYPES and media.startswith(_NON_HTML_PREFIXES):
        raise ExtractionError('not_html', f'content type {media}')


def _decode_bom(body: bytes) -> str | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            try:
                return body[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise ExtractionError('undecodable', f'{codec} BOM but invalid {codec}: {exc}') from exc
    return None


def _sniff_declared_charset(body: bytes) -> str | None:
    head = body[:_SNIFF_BYTES]
    match = _XML_DECL_ENCODING_RE.match(head) or _META_CHARSET_RE.search(head)
    return match.group(1).decode('ascii', 'ignore') if match else None


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip('"\'')).name
    except LookupError:
        return None


def _try_declared(body: bytes, label: str | None) -> str | None:
    codec = _codec_name(label)
    if codec is None:
        return None
    # WHATWG: 'iso-8859-1' and 'ascii' labels mean windows-1252 on the web.
    if codec in ('latin-1', 'iso8859-1', 'ascii'):
        codec = 'cp1252'
    if _decodes_any_bytes(codec) and _is_non_ascii_utf8(body):
        return body.decode('utf-8')
    return _try_codec(body, codec)


@functools.lru_cache(maxsize=64)
def _decodes_any_bytes(codec: str) -> bool:
    """True for single-byte charsets (windows-125x, ISO-8859-x, KOI8 ...), which accept almost any bytes.

    Such a label is rarely proven wrong by a decode error, so a wrong one silently gives mojibake;
    a strictly valid non-ASCII UTF-8 body is much stronger evidence than the label.
    """
    if codec == 'ascii':
        return True
    undefined = 0
    for byte in range(256):
        try:
            bytes((byte,)).decode(codec)
        except UnicodeDecodeError:
            undefined += 1
        except LookupError:
            return False
    return undefined <= _MAX_UNDEFINED_BYTES


def _is_non_ascii_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


def _try_codec(body: bytes, codec: str) -> str | None:
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return text if _looks_like_text(text) else None


def _looks_like_text(text: str) -> bool:
    sample = text[:20000]
    return not sample or len(_CONTROL_RE.findall(sample)) / len(sample) <= _MAX_CONTROL_RATIO


def _detect(body: bytes) -> str:
    best = charset_normalizer.from_bytes(body).best()
    if best is None or best.encoding is None:
        raise ExtractionError('undecodable', 'no declared or detected charset decodes the body')
    text = _try_codec(body, best.encoding)
    if text is None:
        raise ExtractionError('undecodable', f'detected charset {best.encoding} gives control characters')
    return text


# ---------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------
_XML_DECL_RE = re.compile(r'^\s*<\?xml[^>]*\?>', re.IGNORECASE)
_WS_RE = re.compile(r'\s+')
_QUOTES = str.maketrans({'“': '"', '”': '"', '‘': "'", '’': "'", '\xa0': ' '})
_LANG_RE = re.compile(r'^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$')
_DEK_CLASS_RE = re.compile(
    r'(?:^|[\s_-])(?:dek|deck|standfirst|sub-?title|sub-?head(?:line|ing)?|strap(?:line)?|synopsis|descp|'
    r'alternative-?headline|summary|excerpt|kicker|lede-?summary|intro-?text|article-?desc\w*|story-?desc\w*|sp-descp)(?:$|[\s_-])',
    re.IGNORECASE)
_TITLE_SEPARATORS_RE = re.compile(r'\s+(?:[|–—-]|::|»)\s+')
_ARTICLE_TYPES = ('NewsArticle', 'Article', 'ReportageNewsArticle', 'BlogPosting', 'AnalysisNewsArticle',
                  'OpinionNewsArticle', 'ReviewNewsArticle', 'BackgroundNewsArticle', 'LiveBlogPosting',
                  'WebPage', 'TechArticle', 'ScholarlyArticle', 'Report')
_META_DATE_KEYS = ('article:published_time', 'og:article:published_time', 'article.published',
                   'publish-date', 'publish_date', 'pubdate', 'datepublished', 'date', 'dc.date',
                   'dc.date.issued', 'dcterms.created', 'sailthru.date', 'parsely-pub-date',
                   'cxenseparse:recs:publishtime', 'originalpublicationdate')
# Not 'form': ASP.NET sites wrap the whole page in one.
_DROP_TAGS = ('script', 'style', 'noscript', 'template', 'svg', 'iframe', 'button', 'select')
# Site names after a title separator are short; longer tails belong to the headline.
_MAX_BRAND_CHARS = 30
# A page with fewer words of non-boilerplate text has no article (a one-line brief still has ~15).
_MIN_ARTICLE_WORDS = 8
# Below this many characters the precise extraction probably missed the article container.
_MIN_PRECISE_CHARS = 500
# articleBody must be this much longer than the extraction, and contain this share of its shingles.
_LD_BODY_RATIO = 1.5
_LD_CONTAINMENT = 0.9
_LD_PARAGRAPH_RE = re.compile(r'\n\s*\n|\r\n\s*\r\n|\n')
_WORD_RE = re.compile(r'\w+')
_BULLET_RE = re.compile(r'^[-•*]\s+')
_BLOCK_TAGS = ('div', 'figure', 'table', 'ul', 'ol', 'blockquote', 'section', 'aside', 'h2', 'h3', 'h4')
_CAPTION_XPATH = ('//*[contains(concat(" ", normalize-space(@class), " "), " caption ") or '
                  'contains(concat(" ", normalize-space(@class), " "), " cap ") or '
                  'contains(concat(" ", normalize-space(@class), " "), " image-caption ") or '
                  'contains(concat(" ", normalize-space(@class), " "), " photo-caption ")]')
# An inline link inside prose is part of the sentence; only link-dominated blocks are navigation.
_INLINE_LINK_SHARE = 0.5
# A table cell holding a few hundred characters of prose is page layout, not data.
_LAYOUT_CELL_CHARS = 300


def _norm(text: str | None) -> str:
    return _WS_RE.sub(' ', (text or '').translate(_QUOTES)).strip().lower()


def _clean_text(text: str | None) -> str:
    return _WS_RE.sub(' ', html_lib.unescape(text or '').replace('\xa0', ' ')).strip()


def _parse(html: str):
    html = _XML_DECL_RE.sub('', html or '', count=1)
    if not html.strip():
        raise ExtractionError('empty_page', 'document is empty')
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError('not_html', f'lxml cannot parse the document: {exc}') from exc
    return tree


def _element_text(el) -> str:
    return _clean_text(el.text_content())


# ---------------------------------------------------------------------------
# Head metadata: meta tags and JSON-LD
# ---------------------------------------------------------------------------
def _read_meta(tree) -> dict[str, list[str]]:
    """All <meta> values keyed by lower-cased property/name/itemprop/http-equiv, in document order."""
    found: dict[str, list[str]] = {}
    for el in tree.iter('meta'):
        key = el.get('property') or el.get('name') or el.get('itemprop') or el.get('http-equiv')
        value = el.get('content')
        if key and value and value.strip():
            found.setdefault(key.strip().lower(), []).append(_clean_text(value))
    return found


def _first_meta(meta: dict[str, list[str]], *keys: str) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key][0]
    return None


def _load_jsonld(raw: str):
    """Strict json.loads: a block that is not valid JSON (e.g. single-quoted values) is not trusted at all."""
    raw = raw.strip().removeprefix('<!--').removesuffix('-->').strip()
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


def _jsonld_objects(tree) -> list[dict]:
    objects: list[dict] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        data = _load_jsonld(script.text or '')
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get('@graph'), list):
                    stack.extend(item['@graph'])
    return objects


def _types(obj: dict) -> list[str]:
    kind = obj.get('@type')
    return [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]


def _article_jsonld(tree) -> dict:
    """The page's article object; article types beat WebPage, which is only a fallback."""
    objects = _jsonld_objects(tree)
    for wanted in (_ARTICLE_TYPES[:-4], _ARTICLE_TYPES):
        for obj in objects:
            if any(t in wanted for t in _types(obj)):
                return obj
    return {}


def _ld_text(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get('name') or value.get('@value')
    return (_clean_text(value) or None) if isinstance(value, str) else None


def _ld_names(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get('name') if isinstance(item, dict) else item
        if isinstance(name, str) and _clean_text(name):
            names.append(_clean_text(name))
    return names


def _dedupe(values) -> list[str]:
    seen, out = set(), []
    for value in values:
        key = _norm(value)
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
        _first_meta(meta, 'og:title'), _first_meta(meta, 'twitter:title'), _ld_text(ld.get('headline')),
        _first_meta(meta, 'title', 'headline'), _element_text(title_el) if title_el is not None else None,
    ]
    return [v for v in values if v]


def _matches_head(text: str, head_titles: list[str]) -> bool:
    key = _norm(text)
    return bool(key) and any(key == _norm(h) or _norm(h).startswith(key) for h in head_titles)


def _headline_elements(tree) -> list[str]:
    """Visible headline candidates: h1s first, then h2s (legacy layouts put the headline in an h2)."""
    h1 = [_element_text(el) for el in tree.iter('h1')]
    h2 = [_element_text(el) for el in tree.iter('h2')]
    return [t for t in h1 if t], [t for t in h2 if t]


def choose_title(tree, meta: dict, ld: dict, feed_title: str | None = None) -> str | None:
    """The headline as rendered: an h1 confirmed by the head metadata, else the best head title."""
    head = _title_candidates_from_head(tree, meta, ld)
    h1s, h2s = _headline_elements(tree)
    for text in h1s + h2s:
        if _matches_head(text, head):
            return text
    # Outlets rewrite the headline in the page but keep og:title stale, so an unconfirmed
    # article h1 still beats the head; a site-logo h1 is short and matches the site name.
    site = _norm(_first_meta(meta, 'og:site_name'))
    for text in h1s:
        if len(text.split()) >= 3 and _norm(text) != site:
            return text
    for text in head:
        stripped = _strip_site_name(text, site)
        if len(stripped.split()) >= 3:
            return stripped
    return feed_title or (head[0] if head else None)


def _strip_site_name(text: str, site: str) -> str:
    """'Headline | Site Name' -> 'Headline'; a long last part is part of the headline, not a brand."""
    parts = _TITLE_SEPARATORS_RE.split(text)
    if len(parts) > 1 and (_norm(parts[-1]) == site or len(parts[-1]) < _MAX_BRAND_CHARS):
        return ' - '.join(parts[:-1]) if len(parts) > 2 else parts[0]
    return text


def _description(meta: dict, ld: dict, feed_summary: str | None) -> str | None:
    return (_first_meta(meta, 'description', 'og:description', 'twitter:description', 'dc.description')
            or _ld_text(ld.get('description')) or (_clean_text(feed_summary) or None))


# 'A and B', 'A und B, dpa', 'A og B': one field naming several people.
_AUTHOR_JOIN_RE = re.compile(r'\s+(?:and|und|og|och|et|y|e|en|i|&)\s+|\s*[,;/]\s*', re.IGNORECASE)
_AUTHOR_PREFIX_RE = re.compile(r'^(?:by|von|par|por|door|av|af)\b\s*:?\s*', re.IGNORECASE)
# Profile slugs ('emma-mackenzie') and caption credits ('(Image: Getty)') are not names.
_NOT_A_NAME_RE = re.compile(r'^[a-z0-9]+(?:[-_][a-z0-9]+)+$|^\(|^\d+$|@|://')
_MAX_NAME_WORDS = 5


def _split_author(value: str) -> list[str]:
    """'A and B' -> ['A', 'B'] when every part reads as a short name; otherwise the value unchanged."""
    value = _AUTHOR_PREFIX_RE.sub('', value.strip())
    parts = [p.strip() for p in _AUTHOR_JOIN_RE.split(value) if p.strip()]
    if len(parts) > 1 and all(len(p.split()) <= _MAX_NAME_WORDS for p in parts):
        # 'Brazil, Rachel' is one reversed name, not two people.
        if len(parts) == 2 and ',' in value and all(len(p.split()) == 1 for p in parts):
            return [f'{parts[1]} {parts[0]}']
        return parts
    return [value]


def _organisation_names(meta: dict, ld: dict) -> set[str]:
    names = {_norm(_first_meta(meta, 'og:site_name')), _norm(_ld_text(ld.get('publisher')))}
    names.update(_norm(n) for n in _ld_names(ld.get('publisher')))
    names.discard('')
    return names


def _is_organisation(name: str, orgs: set[str]) -> bool:
    key = _norm(name)
    return key in orgs or any(key and (key in org or org in key) for org in orgs)


_BYLINE_XPATH = ('//*[@itemprop="author" or @rel="author" or contains(@class, "byline") or '
                 'contains(@class, "author-name") or contains(@class, "author") or contains(@class, "byl")]')
_MAX_BYLINE_WORDS = 12
_DIGIT_RE = re.compile(r'\d')


def _visible_byline(tree) -> list[str]:
    """Names in the first short byline element (itemprop/rel author, byline/author classes)."""
    for el in tree.xpath(_BYLINE_XPATH):
        if el.tag in ('meta', 'link', 'script', 'style', 'body', 'html', 'article', 'section', 'main'):
            continue
        text = _AUTHOR_PREFIX_RE.sub('', _element_text(el))
        if not text or _DIGIT_RE.search(text) or len(text.split()) > _MAX_BYLINE_WORDS:
            continue
        names = [n for n in _split_author(text) if n[:1].isupper() and not _NOT_A_NAME_RE.search(n)]
        if names:
            return names
    return []


def _authors(meta: dict, ld: dict, feed_authors, tree=None) -> list[str]:
    names = _ld_names(ld.get('author'))
    for key in ('author', 'article:author', 'dc.creator', 'byl', 'parsely-author', 'sailthru.author'):
        names.extend(v for v in meta.get(key, []) if not v.startswith(('http://', 'https://')))
    if not names and tree is not None:
        names.extend(_visible_byline(tree))
    if not names:
        names.extend(_clean_text(a) for a in feed_authors or () if isinstance(a, str))
    people = [part for name in names for part in _split_author(name) if not _NOT_A_NAME_RE.search(part)]
    # The site or publisher listed beside a named writer is the outlet, not an author.
    orgs = _organisation_names(meta, ld)
    persons = [n for n in people if not _is_organisation(n, orgs)]
    return _dedupe(persons or people)


def _section(meta: dict, ld: dict, feed_categories) -> str | None:
    return (_first_meta(meta, 'article:section', 'section', 'og:article:section', 'parsely-section')
            or _ld_text(ld.get('articleSection'))
            or next((_clean_text(c) for c in feed_categories or () if isinstance(c, str) and c.strip()), None))


def _tags(meta: dict, ld: dict, feed_categories) -> list[str]:
    tags = list(meta.get('article:tag', [])) + list(meta.get('og:article:tag', []))
    for raw in meta.get('news_keywords', []) + meta.get('keywords', []):
        tags.extend(t.strip() for t in raw.split(','))
    keywords = ld.get('keywords')
    if isinstance(keywords, str):
        tags.extend(t.strip() for t in keywords.split(','))
    elif isinstance(keywords, list):
        tags.extend(k for k in keywords if isinstance(k, str))
    tags.extend(c for c in feed_categories or () if isinstance(c, str))
    return _dedupe(_clean_text(t) for t in tags if t and t.strip())


def _language(tree, meta: dict, ld: dict) -> str | None:
    for value in (tree.get('lang'), tree.get('xml:lang'), _first_meta(meta, 'content-language', 'og:locale',
                                                                      'language', 'dc.language'),
                  _ld_text(ld.get('inLanguage'))):
        match = _LANG_RE.match((value or '').strip())
        if match and len(match.group(1)) == 2:
            return match.group(1).lower()
    return None


def _canonical_url(tree, meta: dict, url: str) -> str | None:
    for link in tree.iter('link'):
        rels = (link.get('rel') or '').lower().split()
        if 'canonical' in rels and (link.get('href') or '').strip():
            return urljoin(url, link.get('href').strip())
    og_url = _first_meta(meta, 'og:url')
    return urljoin(url, og_url) if og_url else None


def _published(html: str, url: str, meta: dict, ld: dict, feed_published_at, now: datetime):
    ld_date = ld.get('datePublished')
    candidates = [dates.candidate('feed', feed_published_at),
                  dates.candidate('jsonld', _ld_text(ld_date) if not isinstance(ld_date, str) else ld_date)]
    candidates += [dates.candidate('meta', meta[key][0]) for key in _META_DATE_KEYS if meta.get(key)]
    candidates.append(dates.date_from_url(url))
    chosen = dates.choose_published(candidates, now)
    if chosen is None:
        chosen = dates.choose_published([_date_from_text(html, now)], now)
    return (dates.to_iso(chosen.value), chosen.source) if chosen else (None, None)


def _date_from_text(html: str, now: datetime):
    """Last resort: htmldate's visible-text heuristics, day precision only."""
    import htmldate  # Imported lazily: only pages without any structured date pay for it.
    found = htmldate.find_date(html, extensive_search=True, original_date=True,
                               max_date=now.strftime('%Y-%m-%d'))
    return dates.candidate('text', found) if found else None


# ---------------------------------------------------------------------------
# Body
# ---------------------------------------------------------------------------
def _unwrap_layout_tables(tree) -> None:
    """Turn layout tables into divs so the extractor sees prose, not a grid of cells."""
    for table in list(tree.iter('table')):
        cells = table.xpath('.//td|.//th')
        is_layout = table.find('.//table') is not None or any(
            len(_WS_RE.sub(' ', c.text_content())) > _LAYOUT_CELL_CHARS for c in cells)
        if not is_layout:
            continue
        for el in [table, *table.iter('thead', 'tbody', 'tfoot', 'tr', 'td', 'th')]:
            el.tag = 'div'


def _unwrap_inline_links(tree) -> None:
    """Strip <a> inside prose paragraphs so favor_precision's link-density test does not drop them."""
    for para in tree.iter('p'):
        links = para.findall('.//a')
        if not links:
            continue
        total = len(para.text_content().strip())
        linked = sum(len(a.text_content().strip()) for a in links)
        if total and linked / total < _INLINE_LINK_SHARE:
            etree.strip_tags(para, 'a')


def _wrap_block_tails(tree) -> None:
    """Give text that trails a block element (`<div>…</div>First paragraph<br>`) its own <p>.

    Extractors attach such a tail to the block before it, and drop it with that block (a photo box).
    """
    for el in list(tree.iter(*_BLOCK_TAGS)):
        tail = el.tail
        if tail and tail.strip() and el.getparent() is not None:
            para = etree.Element('p')
            para.text = tail
            el.tail = None
            el.addnext(para)


def _drop_captions(tree) -> None:
    """Photo captions are not article text (and their photo credits mislead agency tagging)."""
    for el in list(tree.iter('figcaption')):
        el.drop_tree()
    for el in tree.xpath(_CAPTION_XPATH):
        el.drop_tree()


def _prepare_tree(tree):
    work = copy.deepcopy(tree)
    etree.strip_elements(work, *_DROP_TAGS, with_tail=False)
    _unwrap_layout_tables(work)
    _drop_captions(work)
    _wrap_block_tails(work)
    _unwrap_inline_links(work)
    return work


def _header_texts(tree, meta: dict, title: str | None) -> set[str]:
    """Texts of the headline and standfirst, which trafilatura sometimes emits as the first lines."""
    # Only visible elements: a meta description often repeats the first paragraph, which is body.
    texts = {_norm(title)} if title else set()
    for el in tree.iter('h1', 'h2', 'p', 'div', 'span'):
        if el.tag == 'h1' or _DEK_CLASS_RE.search(el.get('class') or '') or _DEK_CLASS_RE.search(el.get('id') or ''):
            text = _norm(el.text_content())
            if text and len(text) < 600:
                texts.add(text)
    # A subheading placed right after the headline is the standfirst whatever its class says.
    for h1 in tree.iter('h1'):
        follower = h1.getnext()
        if follower is not None and follower.tag in ('h2', 'h3'):
            texts.add(_norm(follower.text_content()))
    texts.discard('')
    return texts


def _trafilatura_lines(work, url: str, **options) -> list[str]:
    text = trafilatura.extract(work, url=url, output_format='txt', include_comments=False, include_tables=True,
                               include_images=False, deduplicate=False, with_metadata=False, **options)
    return [line.strip() for line in (text or '').split('\n') if line.strip()]


def _body_lines(tree, url: str, ld: dict) -> list[str]:
    """Precision-first extraction, widened only when it finds almost nothing or JSON-LD proves it short."""
    lines = _trafilatura_lines(_prepare_tree(tree), url, favor_precision=True)
    if _chars(lines) < _MIN_PRECISE_CHARS:
        # favor_precision prunes whole containers on some layouts; the default mode keeps them.
        wider = _trafilatura_lines(_prepare_tree(tree), url)
        if _chars(wider) > _chars(lines):
            lines = wider
    return _prefer_ld_body(lines, ld)


def _chars(lines: list[str]) -> int:
    return sum(len(line) for line in lines)


def _prefer_ld_body(lines: list[str], ld: dict) -> list[str]:
    """Use JSON-LD articleBody when it is much longer than the extraction and contains it.

    Outlets often publish a truncated teaser as articleBody, so it never wins on its own: only
    when it strictly extends what was visible in the page (paywalled or lazily rendered text).
    """
    body = ld.get('articleBody')
    if not isinstance(body, str) or len(body) < _LD_BODY_RATIO * max(_chars(lines), 1):
        return lines
    ld_words = set(_shingles(body))
    page_shingles = _shingles(' '.join(lines))
    if page_shingles and sum(s in ld_words for s in page_shingles) / len(page_shingles) < _LD_CONTAINMENT:
        return lines
    return [p for p in (_clean_text(part) for part in _LD_PARAGRAPH_RE.split(body)) if p]


def _shingles(text: str) -> list[tuple[str, ...]]:
    words = _WORD_RE.findall(text.lower())
    return [tuple(words[i:i + 4]) for i in range(max(0, len(words) - 3))]


def _drop_header_lines(lines: list[str], header: set[str]) -> list[str]:
    """Remove headline/dek repeats at the top of the text (only there: a body line may equal the dek)."""
    start = 0
    while start < len(lines) and start < 4 and _norm(_BULLET_RE.sub('', lines[start])) in header:
        start += 1
    return lines[start:]


def _article_words(lines: list[str]) -> int:
    """Words outside boilerplate lines: extractors fall back to menu text ('Home') on empty pages."""
    return sum(len(line.split()) for line in lines if not is_boilerplate(normalise_whitespace(line)))


def extract_page(html: str, url: str, *, feed_title=None, feed_summary=None, feed_published_at: str | None = None,
                 feed_categories=(), feed_authors=(), now: datetime | None = None) -> dict:
    """Extract metadata and raw paragraphs (before cleaning) from one decoded HTML page."""
    now = now or datetime.now(timezone.utc)
    tree = _parse(html)
    meta = _read_meta(tree)
    ld = _article_jsonld(tree)
    title = choose_title(tree, meta, ld, feed_title)
    lines = _drop_header_lines(_body_lines(tree, url, ld), _header_texts(tree, meta, title))
    if _article_words(lines) < _MIN_ARTICLE_WORDS:
        raise ExtractionError('no_article_text', f'no article text found at {url} ({len(lines)} lines)')
    published_at, published_source = _published(html, url, meta, ld, feed_published_at, now)
    return {
        'title': title,
        'description': _description(meta, ld, feed_summary),
        'authors': _authors(meta, ld, feed_authors, tree),
        'section': _section(meta, ld, feed_categories),
        'tags': _tags(meta, ld, feed_categories),
        'language': _language(tree, meta, ld),
        'published_at': published_at,
        'published_at_source': published_source,
        'canonical_url': _canonical_url(tree, meta, url),
        'raw_lines': lines,
    }
