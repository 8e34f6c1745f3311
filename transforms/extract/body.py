"""An article's raw paragraphs: a lightly prepared copy of the tree, trafilatura, and JSON-LD articleBody.

Plain Python. Extraction favours precision, skips trafilatura's fallback comparison unless its
rules find almost nothing, and widens only when that still finds almost nothing; the
headline and standfirst that trafilatura sometimes repeats at the top are dropped. Lines are raw
(before cleaning): credit lines stay in for agency tagging.
"""
from __future__ import annotations

import copy
import re

import trafilatura
from lxml import etree

from transforms.clean.cleaning import is_boilerplate, normalise_whitespace
from transforms.extract.containers import better_joined, joined_tree, twin_containers
from transforms.extract.html import clean_text, norm_key
from transforms.util.text import count_words

_WS_RE = re.compile(r'\s+')
_DEK_CLASS_RE = re.compile(
    r'(?:^|[\s_-])(?:dek|deck|standfirst|sub-?title|sub-?head(?:line|ing)?|strap(?:line)?|synopsis|descp|'
    r'alternative-?headline|summary|excerpt|kicker|lede-?summary|intro-?text|article-?desc\w*|story-?desc\w*|sp-descp)(?:$|[\s_-])',
    re.IGNORECASE)
# Not 'form': ASP.NET sites wrap the whole page in one.
_DROP_TAGS = ('script', 'style', 'noscript', 'template', 'svg', 'iframe', 'button', 'select')
# Below this many characters the precise extraction probably missed the article container.
_MIN_PRECISE_CHARS = 500
# articleBody must be this much longer than the extraction, and contain this share of its shingles.
_LD_BODY_RATIO = 1.5
_LD_CONTAINMENT = 0.9
_LD_PARAGRAPH_RE = re.compile(r'\n\s*\n|\r\n\s*\r\n|\n')
_WORD_RE = re.compile(r'\w+')
_BULLET_RE = re.compile(r'^[-•*]\s+')
_BLOCK_TAGS = ('div', 'figure', 'table', 'ul', 'ol', 'blockquote', 'section', 'aside', 'h2', 'h3', 'h4')
_CAPTION_XPATH = ('//*[@class][contains(concat(" ", normalize-space(@class), " "), " caption ") or '
                  'contains(concat(" ", normalize-space(@class), " "), " cap ") or '
                  'contains(concat(" ", normalize-space(@class), " "), " image-caption ") or '
                  'contains(concat(" ", normalize-space(@class), " "), " photo-caption ")]')
_CAPTIONS = etree.XPath(_CAPTION_XPATH)
# An inline link inside prose is part of the sentence; only link-dominated blocks are navigation.
_INLINE_LINK_SHARE = 0.5
# An inline element of at least this many links, this much of its text linked, is a card, not prose.
_CARD_LINKS = 2
_CARD_LINK_SHARE = 0.9
# A table cell holding a few hundred characters of prose is page layout, not data.
_LAYOUT_CELL_CHARS = 300
# Elements that say something while empty.
_KEPT_EMPTY = ('br', 'img', 'hr', 'input', 'wbr')


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
    """Strip <a> inside prose paragraphs so favor_precision's link-density test does not drop them.

    Empty inline elements go too: favor_precision drops one with the rest of the paragraph after it.
    """
    for para in tree.iter('p'):
        inline = [el for el in para.iterdescendants(etree.Element) if el.tag not in _KEPT_EMPTY]
        if not inline:
            continue
        links = [el for el in inline if el.tag == 'a']
        total = len(para.text_content().strip())
        if len(links) >= _CARD_LINKS and _drop_link_cards(inline, total):
            inline = [el for el in para.iterdescendants(etree.Element) if el.tag not in _KEPT_EMPTY]
            links = [el for el in inline if el.tag == 'a']
            total = len(para.text_content().strip())
        linked = sum(len(a.text_content().strip()) for a in links)
        if links and total and linked / total < _INLINE_LINK_SHARE:
            etree.strip_tags(para, 'a')
        for el in inline:
            if el.tag != 'a' and len(el) == 0 and not (el.text or '').strip():
                el.drop_tag()


def _drop_link_cards(inline: list, total: int) -> bool:
    """Drop hover cards inside a paragraph (a name's photo and its latest headlines); True if any.

    A card is an inline element of several links and almost nothing else, beside other text.
    """
    dropped = False
    for el in inline:
        if el.tag == 'a' or el.getparent() is None:
            continue
        links = el.findall('.//a')
        if len(links) < _CARD_LINKS:
            continue
        chars = len(el.text_content().strip())
        if 0 < chars < total and sum(len(a.text_content().strip()) for a in links) >= _CARD_LINK_SHARE * chars:
            el.drop_tree()
            dropped = True
    return dropped


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
    for el in _CAPTIONS(tree):
        el.drop_tree()


def _prepare_tree(tree):
    work = copy.deepcopy(tree)
    etree.strip_elements(work, *_DROP_TAGS, with_tail=False)
    # An HTML comment inside a paragraph (React's `<!-- -->` between text runs) makes the extractor
    # drop the rest of the paragraph; stripping it keeps the text after it.
    etree.strip_tags(work, etree.Comment)
    _unwrap_layout_tables(work)
    _drop_captions(work)
    _wrap_block_tails(work)
    _unwrap_inline_links(work)
    return work


def header_texts(tree, title: str | None) -> set[str]:
    """Texts of the headline and standfirst, which trafilatura sometimes emits as the first lines."""
    # Only visible elements: a meta description often repeats the first paragraph, which is body.
    texts = {norm_key(title)} if title else set()
    for el in tree.iter('h1', 'h2', 'p', 'div', 'span'):
        if el.tag == 'p' and _runs_on(el):
            continue
        if el.tag == 'h1' or _DEK_CLASS_RE.search(el.get('class') or '') or _DEK_CLASS_RE.search(el.get('id') or ''):
            text = norm_key(el.text_content())
            if text and len(text) < 600:
                texts.add(text)
    # A subheading placed right after the headline is the standfirst whatever its class says.
    for h1 in tree.iter('h1'):
        follower = h1.getnext()
        if follower is not None and follower.tag in ('h2', 'h3'):
            texts.add(norm_key(follower.text_content()))
    texts.discard('')
    return texts


def _runs_on(para) -> bool:
    """A paragraph followed by another is running text whatever its class says ('speakable-summary' ledes)."""
    follower = para.getnext()
    return follower is not None and follower.tag == 'p'


def _trafilatura_lines(work, url: str, **options) -> list[str]:
    text = trafilatura.extract(work, url=url, output_format='txt', include_comments=False, include_tables=True,
                               include_images=False, deduplicate=False, with_metadata=False, **options)
    return [line.strip() for line in (text or '').split('\n') if line.strip()]


def body_lines(tree, url: str, ld: dict) -> list[str]:
    """Precision-first extraction, widened only when it finds almost nothing or JSON-LD proves it short."""
    # trafilatura.extract copies a tree it is given before pruning, so one prepared copy serves both passes.
    work = _prepare_tree(tree)
    # fast skips trafilatura's readability/justext comparison, a third of its cost; the comparison
    # only helps when the rules find almost nothing, and on a short article it swaps in
    # readability's longer reading, which takes the related-post teasers after it.
    lines = _trafilatura_lines(work, url, favor_precision=True, fast=True)
    if _chars(lines) < _MIN_PRECISE_CHARS:
        lines = _trafilatura_lines(work, url, favor_precision=True)
    if _chars(lines) < _MIN_PRECISE_CHARS:
        # favor_precision prunes whole containers on some layouts; the default mode keeps them.
        wider = _trafilatura_lines(work, url)
        if _chars(wider) > _chars(lines):
            lines = wider
    twins = twin_containers(work, lines)
    if twins:
        joined = _trafilatura_lines(joined_tree(twins), url, favor_precision=True, fast=True)
        if better_joined(lines, joined):
            lines = joined
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
    return [p for p in (clean_text(part) for part in _LD_PARAGRAPH_RE.split(body)) if p]


def _shingles(text: str) -> list[tuple[str, ...]]:
    words = _WORD_RE.findall(text.lower())
    return [tuple(words[i:i + 4]) for i in range(max(0, len(words) - 3))]


def drop_header_lines(lines: list[str], header: set[str]) -> list[str]:
    """Remove headline/dek repeats at the top of the text (only there: a body line may equal the dek)."""
    start = 0
    while start < len(lines) and start < 4 and norm_key(_BULLET_RE.sub('', lines[start])) in header:
        start += 1
    return lines[start:]


def article_words(lines: list[str], enough: int | None = None) -> int:
    """Words outside boilerplate lines: extractors fall back to menu text ('Home') on empty pages.

    With `enough`, counting stops once that many are found: the boilerplate test is the costly part,
    and a minimum-text check needs only to know the page has that many.
    """
    words = 0
    for line in lines:
        if not is_boilerplate(normalise_whitespace(line)):
            words += count_words(line)
            if enough is not None and words >= enough:
                break
    return words
