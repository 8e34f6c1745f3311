"""Credit-relevant signals read from a page's markup: visible lines, captions, bylines and structured authors.

`page_signals` is plain Python over lxml so that the tagging rules can look past whatever the article
extractor kept: credit lines, source labels and provider blocks often sit outside the extracted body.
"""
from __future__ import annotations

import functools
import re
import threading
from typing import Any, Iterable, Iterator

from lxml import etree
from lxml import html as lxml_html

from transforms.extract.html import AUTHOR_META_KEYS, jsonld_authors
from transforms.extract.results import PageSignals

# Block-level elements end a visible line; inline ones (a, span, strong...) continue it.
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li",
    "main", "marquee", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
})
# Never visible, or site chrome rather than the story.
_SKIP_TAGS = frozenset({
    "script", "style", "noscript", "template", "nav", "footer", "aside", "form", "button", "select",
    "option", "textarea", "input", "iframe", "svg", "canvas", "object", "embed", "video", "audio",
    "figure", "figcaption", "caption", "head", "title", "meta", "link",
})
# Class/id tokens of menus, related lists, widgets and consent bars (whole tokens, see _class_tokens).
_CHROME_TOKENS = frozenset({
    "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "breadcrums", "footer", "sidebar",
    "related", "trending", "popular", "recommended", "recommendations", "share", "sharebar", "social",
    "cookie", "consent", "newsletter", "subscribe", "comments", "more", "stream", "widget", "drawer",
})
_CAPTION_CLASS_RE = re.compile(
    r"caption|(?:photo|image|img|media|pic|picture)[-_ ]?credit|credit[-_ ]?(?:photo|image|img)", re.I)
# Markup that labels who wrote or supplied a story: "pst-by", "byline", "author-name", "source-agency".
_BYLINE_TOKENS = frozenset({
    "by", "byline", "bylines", "author", "authors", "writer", "reporter", "contributor", "posted",
    "postedby", "source", "agency", "attribution",
})
_TEASER_TOKENS = frozenset({
    "related", "recommended", "recommendations", "trending", "popular", "teaser", "teasers", "preview",
    "previews", "more", "stream", "latest", "breaking", "ticker", "sidebar", "outbrain", "taboola",
})
_IMAGE_TOKENS = frozenset({"image", "img", "photo", "picture", "gallery", "thumbnail", "figure"})
_PROVIDER_TOKENS = frozenset({"provider", "syndication", "syndicated"})
_AUTHOR_META = frozenset(AUTHOR_META_KEYS)
_MAX_LABEL_CHARS = 200
_WS_RE = re.compile(r"\s+")
_TOKEN_SPLIT_RE = re.compile(r"[\s_\-]+|(?<=[a-z])(?=[A-Z])")
_BREAK = object()
_NO_TOKENS: frozenset = frozenset()


def page_signals(page) -> PageSignals:
    """Read page_lines, caption_lines, bylines and structured_authors from an HTML page.

    `page` is the HTML text, or its tree as html.parse returns it (read, never changed).
    """
    root = _parse(page) if isinstance(page, (str, bytes)) else page
    if root is None:
        return PageSignals(page_lines=[], caption_lines=[], bylines=[], structured_authors=[])
    index = _Index(root)
    _LOCAL.index = index
    try:
        return PageSignals(
            page_lines=visible_lines(root),
            caption_lines=caption_lines(root),
            bylines=_unique(list(meta_authors(root)) + list(byline_texts(root))),
            structured_authors=_unique(list(jsonld_authors(root)) + list(provider_texts(root))),
        )
    finally:
        _LOCAL.index = None


class _Index:
    """Per-page facts that every element test needs, computed once instead of once per element.

    Class tokens and caption status are asked for the same element many times (by the visible-line
    walk, the caption pass and the byline pass, and again for every ancestor), and "contains an
    <img>" was a subtree search per element; here each is computed once per page. Only elements
    with a class or id have tokens, and the caption test's class rule needs a class too: XPath
    finds those, so a page's many bare elements cost a dictionary default, not a Python call each.
    """

    def __init__(self, root):
        self.root = root
        # Every element with its tag, in document order: the caption pass walks it.
        self.elements = _elements(root)
        self.known = {el for el, _ in self.elements}
        # Elements that can carry byline, provider or teaser markup (class, id, test id, itemprop, rel),
        # in document order: the byline and provider passes need look at no others.
        self.attributed = _ATTRIBUTED(root)
        self.tokens: dict = {el: _compute_class_tokens(el) for el in _CLASSED(root)}
        # Every proper ancestor of an <img>: the elements for which el.find(".//img") is not None.
        self.img_ancestors = set()
        for img in root.iter("img"):
            for anc in img.iterancestors():
                if anc in self.img_ancestors:
                    break
                self.img_ancestors.add(anc)
        # Children and grandchildren of image wrappers (figure/picture or an image class, holding an <img>).
        near_image_block = set()
        for anc in self.img_ancestors:
            if _tag(anc) in ("figure", "picture") or self.class_tokens(anc) & _IMAGE_TOKENS:
                for child in anc:
                    near_image_block.add(child)
                    near_image_block.update(child)
        # As _compute_is_caption, with _in_image_block's tests read from the sets above.
        self.captions = {el for el in root.iter("figcaption", "caption", "FIGCAPTION", "CAPTION")}
        self.captions.update(el for el in _WITH_CLASS(root) if _is_caption_class(el.get("class")))
        self.captions.update(el for el in near_image_block
                             if el not in self.img_ancestors and isinstance(el.tag, str) and _tag(el) != "img")

    def class_tokens(self, el) -> frozenset:
        found = self.tokens.get(el)
        if found is None:
            found = _NO_TOKENS if el in self.known else _compute_class_tokens(el)
        return found

    def is_caption(self, el) -> bool:
        return el in self.captions if el in self.known else _compute_is_caption(el)


_CLASSED = etree.XPath("descendant-or-self::*[@class or @id]")
_WITH_CLASS = etree.XPath("descendant-or-self::*[@class]")
_ATTRIBUTED = etree.XPath("descendant-or-self::*[@class or @id or @data-testid or @itemprop or @rel]")


class _Local(threading.local):
    index = None


_LOCAL = _Local()


def _index():
    return _LOCAL.index


def _elements(root) -> list:
    """(element, lower-cased tag) of every element under root, root included, in document order."""
    return [(el, el.tag.lower()) for el in root.iter(etree.Element)]


def _tagged(root) -> list:
    index = _index()
    return index.elements if index is not None and index.root is root else _elements(root)


def _attributed(root) -> list:
    """Elements with a class, id, test id, itemprop or rel, in document order: only they can be marked up."""
    index = _index()
    return index.attributed if index is not None and index.root is root else _ATTRIBUTED(root)


def _parse(html: str | bytes):
    if not html:
        return None
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    parser = lxml_html.HTMLParser(encoding="utf-8" if isinstance(html, str) else None)
    try:
        return lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        # An empty or unparseable document has no signals; the caller still tags from the text.
        return None


def _norm(text: str | None) -> str:
    return _WS_RE.sub(" ", text or "").strip()


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


def _class_tokens(el) -> frozenset:
    index = _index()
    return index.class_tokens(el) if index is not None else _compute_class_tokens(el)


def _compute_class_tokens(el) -> frozenset:
    css, ident = el.get("class"), el.get("id")
    if not css and not ident:
        return _NO_TOKENS
    return _tokens_of(f"{css or ''} {ident or ''}")


@functools.lru_cache(maxsize=8192)
def _is_caption_class(css: str) -> bool:
    # Cached like _tokens_of: a page repeats its class strings, and this case-blind search is slow.
    return _CAPTION_CLASS_RE.search(css) is not None


@functools.lru_cache(maxsize=8192)
def _tokens_of(raw: str) -> frozenset:
    # A site repeats the same few class strings on most of its elements, and across its pages.
    return frozenset(t.lower() for t in _TOKEN_SPLIT_RE.split(raw) if t)


def _contains_img(el) -> bool:
    index = _index()
    return el in index.img_ancestors if index is not None else el.find(".//img") is not None


def _tag(el) -> str:
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else ""


def _is_hidden(el) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return (el.get("hidden") is not None or el.get("aria-hidden") == "true"
            or "display:none" in style or "visibility:hidden" in style)


def _is_caption(el) -> bool:
    index = _index()
    return index.is_caption(el) if index is not None else _compute_is_caption(el)


def _compute_is_caption(el) -> bool:
    return (_tag(el) in ("figcaption", "caption") or _is_caption_class(el.get("class", "") or "")
            or _in_image_block(el))


def _in_image_block(el) -> bool:
    # A short "source"/credit label next to an <img> in an image wrapper is a photo credit, even without
    # caption markup (<div class="image"><img><p class="source">Reuters</p></div>).
    if _tag(el) == "img" or _contains_img(el):
        return False
    index = _index()
    if index is not None:
        return el in index.near_image_block
    for depth, anc in enumerate(el.iterancestors()):
        if depth >= 2:
            return False
        if (_tag(anc) in ("figure", "picture") or _class_tokens(anc) & _IMAGE_TOKENS) and _contains_img(anc):
            return True
    return False


def _is_site_header(el) -> bool:
    # <header> holding the headline is the article's own header; other headers are site chrome.
    return _tag(el) == "header" and not el.xpath(".//h1")


def _is_link_list(el) -> bool:
    # A list whose items are nearly all links is a related/trending list, not story text.
    if _tag(el) not in ("ul", "ol"):
        return False
    items = el.findall("li")
    if len(items) < 3:
        return False
    linked = sum(1 for li in items if li.find(".//a") is not None)
    return linked >= 0.8 * len(items)


def _skip(el) -> bool:
    tag = _tag(el)
    if tag in ("html", "body", "main"):
        return False  # a page-wide class ("widget body") says nothing about the story inside
    return (tag in _SKIP_TAGS or _is_hidden(el) or _is_caption(el) or _is_site_header(el)
            or bool(_class_tokens(el) & _CHROME_TOKENS) or _is_link_list(el))


def visible_lines(root) -> list[str]:
    """Visible text lines of the page body in document order, without chrome, related lists or captions."""
    body = root.find("body")
    fragments: list[Any] = []
    _walk(body if body is not None else root, fragments)
    lines, current = [], []
    for frag in fragments + [_BREAK]:
        if frag is _BREAK:
            line = _norm("".join(current))
            if line:
                lines.append(line)
            current = []
        else:
            current.append(frag)
    return lines


def _walk(el, out: list) -> None:
    tag = _tag(el)
    if not tag or _skip(el):
        return
    if tag == "br":
        out.append(_BREAK)
        return
    block = tag in _BLOCK_TAGS
    if block:
        out.append(_BREAK)
    if el.text:
        out.append(el.text)
    for child in el:
        _walk(child, out)
        if child.tail:
            out.append(child.tail)
    if block:
        out.append(_BREAK)


def caption_lines(root) -> list[str]:
    """Texts of figure captions and photo credits."""
    texts = []
    for el, tag in _tagged(root):
        if tag in ("figcaption", "caption") or _is_caption(el):
            texts.append(_norm(el.text_content()))
    return _unique(t for t in texts if t)


def meta_authors(root) -> Iterator[str]:
    """Author names from <meta name=author>, article:author and similar head tags."""
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").strip().lower()
        content = _norm(meta.get("content"))
        # article:author is often a profile URL, which names no one.
        if key in _AUTHOR_META and content and "://" not in content:
            yield content


def byline_texts(root) -> Iterator[str]:
    """Texts of elements marked up as byline, author, or source/agency label."""
    for el in _attributed(root):
        if _tag(el) in ("meta", "script", "style", "body", "html", "link"):
            continue
        # Sites with hashed class names label their byline and source rows for their own tests.
        # Their classes are typography ("caption2"), so the test id, which names the role, is trusted over them.
        testid = el.get("data-testid") or ""
        by_testid = bool(testid) and bool({t.lower() for t in _TOKEN_SPLIT_RE.split(testid) if t} & _BYLINE_TOKENS)
        marked = (by_testid or _class_tokens(el) & _BYLINE_TOKENS or el.get("itemprop") == "author"
                  or el.get("rel") == "author")
        if not marked or (_is_caption(el) and not by_testid) or _inside_caption(el) or _inside_teaser(el):
            continue
        text = _norm(el.text_content())
        if text and len(text) <= _MAX_LABEL_CHARS:
            yield text


def _inside_teaser(el) -> bool:
    # Related-article teasers and breaking-news lists carry bylines of their own stories.
    return any(_tag(a) not in ("html", "body", "main") and _class_tokens(a) & _TEASER_TOKENS
               for a in el.iterancestors())


def _inside_caption(el) -> bool:
    return any(_tag(a) == "figure" or _is_caption(a) for a in el.iterancestors())


def provider_texts(root) -> Iterator[str]:
    """Names in publisher/provider attribution blocks (portal pages name the supplying agency there)."""
    for el in _attributed(root):
        if not (_class_tokens(el) & _PROVIDER_TOKENS):
            continue
        text = _norm(el.text_content())
        if text and len(text) <= _MAX_LABEL_CHARS:
            yield text
        for img in el.iter("img"):
            alt = _norm(img.get("alt"))
            if alt:
                yield alt
