"""The paywall flag: isAccessibleForFree read from a page's JSON-LD and microdata, and teaser bodies.

Plain Python over the lxml tree (no Beam). `read_paywall` reads what the page declares; `teaser`
judges a cleaned body against that declaration and the JSON-LD wordCount.

Precedence (ARCHITECTURE.md, Decisions): an article-level declaration (any JSON-LD object outside
`hasPart`, or microdata outside an itemprop="hasPart" scope) decides; if any of them says false
the page is paywalled, else one saying true makes it free. Without an article-level value, a
`hasPart` declared false makes the article paywalled in part, so `is_accessible_for_free` is false
(Google's paywalled-content markup: the part names what is behind the wall). Empty strings and
values that are not booleans count as undeclared.
"""
from __future__ import annotations

import json
import re
from typing import NamedTuple

from transforms.extract.html import load_jsonld

_KEY = 'isaccessibleforfree'  # matched case-insensitively: NDR writes isAccessibleforFree
_TRUE = ('true', 'yes', '1')
_FALSE = ('false', 'no', '0')
# Evidence strings are capped: a page cannot push an essay into the warehouse through a selector.
_MAX_EVIDENCE = 300

# Calls to subscribe that end a teaser, lower-cased. Each says the rest is for subscribers (a bare
# "subscribe" or "newsletter" is not enough: free articles end with newsletter boxes).
SUBSCRIBE_PROMPTS = (
    'subscribe to continue reading', 'subscribe to read', 'subscribe now to continue', 'to continue reading',
    'to keep reading', 'continue reading with', 'this article is for subscribers', 'already a subscriber',
    'subscribers only', 'for subscribers only', 'to read the full article', 'read the full story with',
    'jetzt abonnieren', 'weiterlesen mit', 'um weiterzulesen', 'artikel ist exklusiv', 'nur für abonnenten',
    'mit z+ weiterlesen', 'abonnez-vous', 'réservé aux abonnés', 'article réservé', 'pour lire la suite',
    'suscríbete', 'exclusivo para suscriptores', 'para seguir leyendo', 'abbonati per', 'riservato agli abbonati',
    'per continuare a leggere', 'assine para', 'exclusivo para assinantes', 'word abonnee', 'lees verder met',
    'abonner for å lese', 'bli abonnent', 'för att läsa vidare', 'prenumerera för', 'zaloguj się, aby czytać',
    'dostęp do tego artykułu', '続きを読むには', '続きは会員登録', '会員登録して続き',
    '有料会員限定', 'この記事は有料記事', '구독하고 계속', '유료 회원 전용',
)


class Declaration(NamedTuple):
    """One isAccessibleForFree value found on a page, and where."""

    where: str  # 'jsonld' or 'microdata'
    key: str  # as spelled on the page
    owner: str  # the declaring object's @type, 'hasPart', or the microdata element
    value: bool | None  # None: empty or not a boolean
    raw: object
    part: bool  # declared on a hasPart (a paywalled or free section), not the article
    selector: str | None


class Paywall(NamedTuple):
    """What a page declares about its paywall: the flag (true, false or None) and the evidence for it."""

    is_accessible_for_free: bool | None
    evidence: str | None
    declared_word_count: int | None


def as_bool(value) -> bool | None:
    """True/False for booleans and the strings publishers write ("False", "http://schema.org/True", "yes")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 1:
        return as_bool(value[0])
    if not isinstance(value, str):
        return None
    text = value.strip().lower().rstrip('/')
    text = text.rsplit('/', 1)[-1]  # schema.org/True
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _selector(value) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        parts = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        return ', '.join(parts) or None
    return None


def _type_name(obj: dict) -> str:
    kind = obj.get('@type')
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]
    return kinds[0] if kinds else 'Thing'


def _walk(node, found: list, part: bool) -> None:
    """Every isAccessibleForFree in a JSON-LD value, anywhere; under hasPart it marks a part.

    A loop over a stack, not recursion: a page's JSON may nest as deep as json.loads allows.
    """
    stack = [(node, part)]
    while stack:
        node, part = stack.pop()
        if isinstance(node, list):
            stack.extend((item, part) for item in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key.lower() == _KEY:
                owner = 'hasPart' if part else _type_name(node)
                selector = _selector(node.get('cssSelector'))
                found.append(Declaration('jsonld', key, owner, as_bool(value), value, part, selector))
        stack.extend((value, part or key == 'hasPart') for key, value in reversed(list(node.items()))
                     if isinstance(value, (dict, list)))


def _jsonld_blocks(tree) -> list:
    blocks = []
    for script in tree.xpath('//script[translate(@type, "LDJSON+", "ldjson+")="application/ld+json"]'):
        raw = (script.text or '').strip()
        if _KEY not in raw.lower():
            continue
        raw = re.sub(r'^(<!--|<!\[CDATA\[)|(-->|\]\]>)$', '', raw).strip()
        try:
            data = load_jsonld(raw, lenient=True)
        except RecursionError:  # nested deeper than json.loads goes: read like any unreadable block
            data = None
        if data is None:
            data = _regex_values(raw)
        blocks.append(data)
    return blocks


def _regex_values(raw: str) -> list:
    """A block JSON cannot read: its isAccessibleForFree values as top-level objects (a last resort)."""
    found = re.findall(r'"(isAccessibleForFree)"\s*:\s*("[^"]*"|true|false)', raw, re.IGNORECASE)
    return [{key: json.loads(value)} for key, value in found]


def _microdata(tree) -> list:
    found = []
    for el in tree.xpath('//*[@itemprop]'):
        props = el.get('itemprop', '').lower().split()
        if _KEY not in props:
            continue
        raw = el.get('content')
        if raw is None:
            raw = el.get('href') or el.text_content()
        scopes = el.xpath('ancestor::*[@itemscope][1]')
        part = bool(scopes) and 'haspart' in (scopes[0].get('itemprop') or '').lower().split()
        selector = None
        if scopes:
            # The item's own cssSelector, not one of an item nested in it (lxml keeps one proxy per node).
            sel = [c for c in scopes[0].xpath('.//*[translate(@itemprop, "CSELTOR", "cseltor")="cssselector"]')
                   if c.xpath('ancestor::*[@itemscope][1]')[0] is scopes[0]]
            selector = _selector(sel[0].get('content') or sel[0].text_content()) if sel else None
        owner = 'hasPart' if part else el.tag
        found.append(Declaration('microdata', el.get('itemprop').strip(), owner, as_bool(raw), raw, part, selector))
    return found


def declarations(tree) -> list:
    """Every isAccessibleForFree declaration of the page: JSON-LD first, then microdata, in page order."""
    found: list = []
    for block in _jsonld_blocks(tree):
        _walk(block, found, False)
    return found + _microdata(tree)


def _evidence(decl: Declaration) -> str:
    value = json.dumps(decl.raw, ensure_ascii=False) if isinstance(decl.raw, str) else json.dumps(decl.raw)
    if decl.where == 'microdata':
        text = f'microdata:{"hasPart." if decl.part else ""}{decl.key}={value}'
    else:
        text = f'jsonld:{decl.owner}.{decl.key}={value}'
    if decl.selector:
        text += f' ({decl.selector})'
    return text[:_MAX_EVIDENCE]


def decide(found: list) -> tuple:
    """(is_accessible_for_free, evidence) by the module's precedence."""
    top = [d for d in found if not d.part]
    parts = [d for d in found if d.part]
    for group in (top, parts):
        for wanted in (False, True):
            hit = next((d for d in group if d.value is wanted), None)
            if hit is None:
                continue
            if group is parts and wanted is True:
                # A free part says nothing about the rest of the article.
                return None, _evidence(hit)
            return wanted, _evidence(hit)
    if found:
        return None, _evidence(found[0]) + ' (not a boolean: undeclared)'
    return None, None


def declared_word_count(tree_or_objects) -> int | None:
    """The article's JSON-LD wordCount (a number or a numeric string), if the page declares one."""
    value = tree_or_objects.get('wordCount') if isinstance(tree_or_objects, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def read_paywall(tree, article_ld: dict | None = None) -> Paywall:
    """The page's paywall declaration; article_ld is the page's article JSON-LD object (html.article_jsonld)."""
    free, evidence = decide(declarations(tree))
    return Paywall(free, evidence, declared_word_count(article_ld or {}))


def subscribe_prompt(body: str, tail_chars: int) -> str | None:
    """The call to subscribe the body ends with, if any (looked for in its last tail_chars characters)."""
    tail = body[-tail_chars:].lower()
    for prompt in SUBSCRIBE_PROMPTS:
        if prompt in tail:
            return prompt
    return None


def teaser(body: str, words: int, paywall_free: bool | None, declared_words: int | None, limits) -> tuple:
    """(truncated, reason): whether a cleaned body is evidently a teaser, and why (limits: PaywallSettings).

    The wordCount test is skipped on a page that declares itself free: some CMSs count the whole
    page there (Kleine Zeitung declares 2,737 words for a 669-word article), and a free page has
    no wall to cut the body at.
    """
    if paywall_free is not True and declared_words and declared_words >= limits.min_declared_words and \
            words < declared_words * limits.teaser_ratio:
        return True, f'word_count: {words} of {declared_words} declared words'
    prompt = subscribe_prompt(body, limits.prompt_tail_chars)
    if prompt:
        return True, f'subscribe_prompt: "{prompt}"'
    if paywall_free is False and words < limits.paywalled_short_words:
        return True, f'paywalled_short: {words} words (isAccessibleForFree false)'
    return False, None
