"""Article HTML carried in a page's script data, for pages whose body JavaScript draws (Next.js, Nuxt, hydration state).

Such pages ship the story as an HTML string inside a JSON blob (`"content":"<p>…</p>"`), and their
markup holds no paragraphs for an extractor to find. The longest string with paragraph markup is
the story; it is only read when the page's markup gave no article text.
"""
from __future__ import annotations

import json
import re

from lxml import html as lxml_html

# A JSON string literal long enough to hold a story.
_STRING_RE = re.compile(r'"((?:[^"\\\n]|\\.){300,})"')
_PARAGRAPH_RE = re.compile(r"<p\b", re.I)
# Serialised data (a JSON object or a Next.js chunk "5:[…") is not article markup, whatever it holds.
_JSON_START_RE = re.compile(r"\s*(?:[\[{]|\w{1,4}:[\[{\"])")
# Paragraph tags a string needs before it is taken for article markup rather than a snippet.
_MIN_PARAGRAPHS = 3
# Next.js streams its data as JSON text inside a JavaScript string, so a string may need two decodings.
_MAX_DECODINGS = 2


def embedded_article_html(tree) -> str | None:
    """The longest HTML string with paragraph markup found in the page's scripts, or None."""
    best, best_chars = None, 0
    for script in tree.iter("script"):
        for value in _strings(script.text or ""):
            if len(_PARAGRAPH_RE.findall(value)) < _MIN_PARAGRAPHS or _JSON_START_RE.match(value):
                continue
            chars = _paragraph_chars(value)
            if chars > best_chars:
                best, best_chars = value, chars
    return best


def _strings(source: str):
    pending = [(source, 0)]
    while pending:
        text, depth = pending.pop()
        if "<" not in text and "\\u003c" not in text.lower():
            continue
        for match in _STRING_RE.finditer(text):
            try:
                value = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            yield value
            if depth + 1 < _MAX_DECODINGS and '\\"' in match.group(1):
                pending.append((value, depth + 1))


def _paragraph_chars(fragment: str) -> int:
    """Characters of prose in the fragment's paragraphs: a data blob that merely holds a <br> scores low."""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return 0
    return sum(len(p.text_content().strip()) for p in root.iter("p"))
