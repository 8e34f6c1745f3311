"""Parsing helpers shared by the extract modules: the document tree, text normalisation and JSON-LD.

Plain Python over lxml. `load_jsonld` is the one JSON-LD reader: metadata.py reads it strictly and
signals.py leniently (its docstring says why), through jsonld_authors here. AUTHOR_META_KEYS is the one
list of author meta tags.
"""
from __future__ import annotations

import html as html_lib
import json
import re
import threading
from typing import Any, Iterator

import lxml.html
from lxml import etree

from transforms.extract.results import ExtractionError

_XML_DECL_RE = re.compile(r'^\s*<\?xml[^>]*\?>', re.IGNORECASE)
_WS_RE = re.compile(r'\s+')
_QUOTES = str.maketrans({'“': '"', '”': '"', '‘': "'", '’': "'", '\xa0': ' '})
_SINGLE_QUOTED_RE = re.compile(r"'((?:[^'\\]|\\.)*)'")

# <meta> names that carry a byline, in the order metadata.py reads them; signals.py reads the same
# set. The last two were once read by the credit signals only: adding them to metadata changed no
# author on the corpus pages (news/, aeb/, syndication/dev/), and the metadata benchmark held.
AUTHOR_META_KEYS = ('author', 'article:author', 'dc.creator', 'byl', 'parsely-author', 'sailthru.author',
                    'dcterms.creator', 'cxenseparse:author', 'articleauthor')

# schema.org types of the page's article object, tried first.
ARTICLE_TYPES = ('NewsArticle', 'Article', 'ReportageNewsArticle', 'BlogPosting', 'AnalysisNewsArticle',
                 'OpinionNewsArticle', 'ReviewNewsArticle', 'BackgroundNewsArticle', 'LiveBlogPosting')
# Used only when no object has an article type. TechArticle, ScholarlyArticle and Report are Article
# subtypes in schema.org, but they have always ranked with WebPage here.
FALLBACK_TYPES = ('WebPage', 'TechArticle', 'ScholarlyArticle', 'Report')


# ---------------------------------------------------------------------------
# Text and tree
# ---------------------------------------------------------------------------
def norm_key(text: str | None) -> str:
    """A comparison key: whitespace collapsed, curly quotes straightened, lower-cased."""
    return _WS_RE.sub(' ', (text or '').translate(_QUOTES)).strip().lower()


def clean_text(text: str | None) -> str:
    """Entities unescaped, non-breaking spaces and runs of whitespace made single spaces."""
    return _WS_RE.sub(' ', html_lib.unescape(text or '').replace('\xa0', ' ')).strip()


def _html_parser() -> lxml.html.HTMLParser:
    # lxml.html's own parser picks each element's class in a Python method, called every time a
    # node gets a Python proxy: a few thousand times a page, and again on every copy the extractor
    # walks. The same HtmlElement classes chosen by lxml's C-level default lookup cost nothing.
    # Only the form-field classes (FormElement, InputElement, ...) are lost; nothing here uses them.
    parser = lxml.html.HTMLParser()
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity))
    return parser


_PARSER = threading.local()


def parse(html: str):
    """The page's lxml tree; ExtractionError for a page that is empty or that lxml cannot parse."""
    html = _XML_DECL_RE.sub('', html or '', count=1)
    if not html.strip():
        raise ExtractionError('empty_page', 'document is empty')
    parser = getattr(_PARSER, 'parser', None)
    if parser is None:
        # An lxml parser may not be shared between threads; the fetch and extract steps run in several.
        parser = _PARSER.parser = _html_parser()
    try:
        tree = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError('not_html', f'lxml cannot parse the document: {exc}') from exc
    return tree


def element_text(el) -> str:
    return clean_text(el.text_content())


# ---------------------------------------------------------------------------
# JSON-LD
# ---------------------------------------------------------------------------
def load_jsonld(raw: str, *, lenient: bool = False) -> Any:
    """One <script type="application/ld+json"> block as JSON, or None when it cannot be read.

    Strict (metadata.py): exactly json.loads, after removing HTML comment markers around the block.
    A block that is not valid JSON (single-quoted values, trailing commas) is not trusted at all:
    its title, dates and authors would go into the article as facts, and a page whose JSON-LD is
    broken has meta tags and visible text that are read instead.

    Lenient (signals.py): control characters are allowed inside strings and single-quoted strings
    are re-quoted. Credit signals are only candidates that the tagging rules match against the
    agency registry, and some CMSs name the supplying agency nowhere else, so a repaired block
    is worth more than none. The caller falls back to a regex over the raw text when this fails.
    """
    if lenient:
        for candidate in (raw, _requote(raw)):
            try:
                return json.loads(candidate, strict=False)
            except ValueError:
                continue
        return None
    raw = raw.strip().removeprefix('<!--').removesuffix('-->').strip()
    try:
        return json.loads(raw)
    except ValueError:  # JSONDecodeError, and also an integer too long to convert (over 4300 digits)
        return None


def _requote(raw: str) -> str:
    def repl(match: re.Match) -> str:
        return json.dumps(match.group(1).replace("\\'", "'"))
    return _SINGLE_QUOTED_RE.sub(repl, raw)


def jsonld_objects(tree) -> list[dict]:
    """Every object of every strictly readable JSON-LD block, lists and @graph flattened, in page order."""
    objects: list[dict] = []
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        data = load_jsonld(script.text or '')
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


def article_jsonld(tree) -> dict:
    """The page's article object: the first with an article type, else the first with a fallback type."""
    objects = jsonld_objects(tree)
    for wanted in (ARTICLE_TYPES, ARTICLE_TYPES + FALLBACK_TYPES):
        for obj in objects:
            if any(t in wanted for t in _types(obj)):
                return obj
    return {}


# ---------------------------------------------------------------------------
# JSON-LD authors (the credit signals' structured authors)
# ---------------------------------------------------------------------------
_AUTHOR_KEYS = ("author", "creator", "provider", "sourceOrganization", "publisher")
_NAME_IN_AUTHOR_RE = re.compile(
    r"""["'](?:author|creator|provider)["']\s*:\s*(?:\[[^\]]*\]|\{[^{}]*\}|["'][^"']*["'])""", re.S)
_AUTHOR_NAME_RE = re.compile(
    r"""["']name["']\s*:\s*["']([^"']+)["']|^["'](?:author|creator|provider)["']\s*:\s*["']([^"']+)["']""")


def jsonld_authors(root) -> Iterator[str]:
    """Author, provider and publisher names from every JSON-LD block, including @graph and lists."""
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = script.text or ""
        data = load_jsonld(raw, lenient=True)
        names = _authors_in(data) if data is not None else _authors_by_regex(raw)
        for name in names:
            name = _WS_RE.sub(" ", html_lib.unescape(name)).strip()
            if name:
                yield name


def _authors_in(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _authors_in(item)
    elif isinstance(node, dict):
        for key in _AUTHOR_KEYS:
            if key in node:
                yield from _names_of(node[key])
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if isinstance(node.get(key), (list, dict)):
                yield from _authors_in(node[key])


def _names_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _names_of(item)
    elif isinstance(value, dict) and isinstance(value.get("name"), str):
        yield value["name"]


def _authors_by_regex(raw: str) -> Iterator[str]:
    # Last resort for JSON-LD broken beyond repair: pull names straight out of author blocks.
    for block in _NAME_IN_AUTHOR_RE.findall(raw):
        for named, bare in _AUTHOR_NAME_RE.findall(block):
            yield named or bare
