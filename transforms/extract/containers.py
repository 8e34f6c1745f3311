"""An article split over several containers of one kind: find the others and read them together.

Plain Python over lxml. Some layouts (Wired's body__container blocks between ads) cut the article
into repeated elements of the same tag and class; a precise extractor keeps the first and drops the
rest. When the extracted paragraphs sit in such an element and its twins hold paragraphs too, the
twins are read together, in page order, by the same extractor.
"""
from __future__ import annotations

import copy
import re

from lxml import html as lxml_html

from transforms.extract.html import norm_key

_WORD_RE = re.compile(r'\w+')
# Each twin must hold this much paragraph text to be article, not a teaser box of the same class.
_MIN_TWIN_CHARS = 200
_MAX_TWINS = 12
_MAX_LEVELS = 3
# The joined reading must be this much longer, and keep this share of the first reading's shingles.
_MIN_GAIN = 1.2
_MIN_KEPT = 0.9


def twin_containers(work, lines: list[str]) -> list:
    """The repeated containers, in page order, that hold the extracted paragraphs and more; [] if none."""
    wanted = {norm_key(line) for line in lines}
    paragraphs = list(work.iter('p'))
    first = next((p for p in paragraphs if norm_key(p.text_content()) in wanted), None)
    last = next((p for p in reversed(paragraphs) if norm_key(p.text_content()) in wanted), None)
    if first is None or last is first:
        return []
    container = _common_ancestor(first, last)
    body = work.find('body')
    levels = 0
    while container is not None and container is not body and container.getparent() is not None:
        css = container.get('class')
        if css and css.strip():
            # Twins are siblings or cousins (each in a wrapper of its own); looking only under the
            # grandparent, for the nearest few classed levels, keeps this cheap on every page.
            scope = container.getparent().getparent()
            scope = container.getparent() if scope is None else scope
            twins = [el for el in _near(scope) if el.tag == container.tag and el.get('class') == css
                     and (el is container or not _related(el, container))]
            # Every twin holds paragraphs: a layout class ('row') also marks empty and teaser blocks.
            if 1 < len(twins) <= _MAX_TWINS and all(_paragraph_chars(el) >= _MIN_TWIN_CHARS for el in twins):
                return twins
            levels += 1
            if levels == _MAX_LEVELS:
                return []
        container = container.getparent()
    return []


def joined_tree(twins: list):
    """A document holding copies of the twins, in page order, as one article.

    The copies lose their class and id: an extractor that finds the article container by its class
    reads only the first one that matches.
    """
    root = lxml_html.document_fromstring('<html><body><article></article></body></html>')
    article = root.find('.//article')
    for el in twins:
        twin = copy.deepcopy(el)
        twin.tail = None
        for name in ('class', 'id'):
            twin.attrib.pop(name, None)
        article.append(twin)
    return root


def better_joined(lines: list[str], joined: list[str]) -> bool:
    """True when the joined reading is clearly longer and keeps what the first reading found."""
    before, after = sum(map(len, lines)), sum(map(len, joined))
    if after < _MIN_GAIN * before:
        return False
    kept = set(_shingles(' '.join(joined)))
    first = _shingles(' '.join(lines))
    return not first or sum(s in kept for s in first) / len(first) >= _MIN_KEPT


def _common_ancestor(a, b):
    ancestors = {id(el) for el in a.iterancestors()} | {id(a)}
    node = b
    while node is not None and id(node) not in ancestors:
        node = node.getparent()
    return node


def _near(scope) -> list:
    """The children and grandchildren of scope, in page order: where a container's twins sit."""
    out = []
    for child in scope:
        out.append(child)
        out.extend(child)
    return out


def _related(a, b) -> bool:
    return any(x is b for x in a.iterancestors()) or any(x is a for x in b.iterancestors())


def _paragraph_chars(el) -> int:
    return sum(len(p.text_content().strip()) for p in el.iter('p'))


def _shingles(text: str) -> list[tuple[str, ...]]:
    words = _WORD_RE.findall(text.lower())
    return [tuple(words[i:i + 4]) for i in range(max(0, len(words) - 3))]
