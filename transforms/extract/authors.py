"""An article's authors: JSON-LD and author meta tags, else the visible byline, else the feed; outlets dropped.

Plain Python over the lxml tree metadata.py reads. Author strings carry more than names ('By A and B',
'A, professor at X', a caption credit in a meta tag), so every value is split and cleaned the same way.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from transforms.extract.html import AUTHOR_META_KEYS, clean_text, element_text, norm_key
from transforms.extract.metadata import dedupe, first_meta, ld_text

# 'A and B', 'A und B, dpa', 'A og B': one field naming several people.
_AUTHOR_JOIN_RE = re.compile(r'\s+(?:and|und|og|och|et|y|e|en|i|&)\s+|\s*[,;/]\s*', re.IGNORECASE)
_AUTHOR_PREFIX_RE = re.compile(r'^(?:by|von|par|por|door|av|af)\b\s*:?\s*', re.IGNORECASE)
# Profile slugs ('emma-mackenzie') and caption credits ('(Image: Getty)') are not names.
_NOT_A_NAME_RE = re.compile(r'^[a-z0-9]+(?:[-_][a-z0-9]+)+$|^\(|^\d+$|@|://')
_MAX_NAME_WORDS = 5
# A writer's newsroom initials after the name: 'Elena Oberholzer (obe)'.
_INITIALS_RE = re.compile(r'\s*\([a-z]{2,5}\.?\)$')
# A role after a name written without a separator: '신현주 기자' (reporter), '記者'.
_ROLE_RE = re.compile(r'\s+(?:기자|記者|记者|특파원|特派員|特派员)$')


def _ld_names(value) -> list[str]:
    """Names of JSON-LD authors: 'name', else schema.org's givenName + familyName, which some CMSs give alone."""
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get('name') if isinstance(item, dict) else item
        if isinstance(item, dict) and not isinstance(name, str):
            parts = (item.get('givenName'), item.get('familyName'))
            name = ' '.join(p for p in parts if isinstance(p, str) and p.strip())
        if isinstance(name, str) and clean_text(name):
            names.append(clean_text(name))
    return names


def _split_author(value: str) -> list[str]:
    """'A and B' -> ['A', 'B'] when every part reads as a short name; 'A, professor at X' -> ['A'];
    otherwise the value unchanged."""
    value = _AUTHOR_PREFIX_RE.sub('', value.strip())
    parts = [p.strip() for p in _AUTHOR_JOIN_RE.split(value) if p.strip()]
    if len(parts) > 1 and all(len(p.split()) <= _MAX_NAME_WORDS for p in parts):
        # 'Brazil, Rachel' is one reversed name, not two people.
        if len(parts) == 2 and ',' in value and all(len(p.split()) == 1 for p in parts):
            return [f'{parts[1]} {parts[0]}']
        return parts
    # A name, then after a comma a description too long to be another name: the writer's role or affiliation.
    head, sep, _ = value.partition(',')
    if sep and 2 <= len(head.split()) <= _MAX_NAME_WORDS and not _AUTHOR_JOIN_RE.search(head):
        return [head.strip()]
    return [value]


def _organisation_names(meta: dict, ld: dict, url: str | None = None) -> set[str]:
    names = {norm_key(first_meta(meta, 'og:site_name')), norm_key(ld_text(ld.get('publisher'))),
             norm_key(first_meta(meta, 'application-name'))}
    names.update(norm_key(n) for n in _ld_names(ld.get('publisher')))
    # 'CNN' on www.cnn.com, 'Washington Times' on washingtontimes.com: the site's own name.
    labels = (urlsplit(url).hostname or '').split('.')[:-1] if url else []
    names.update(label for label in labels if len(label) > 2 and label != 'www')
    names.discard('')
    return names


def _ld_organisations(value) -> list:
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict) and 'Organization' in str(i.get('@type') or '')]


# Words that name a newsroom rather than a person ('NZZ-Redaktion'), and host names.
_ORG_WORD_RE = re.compile(r'(?:redaktion|redacci[oó]n|r[ée]daction|redazione|newsroom)', re.IGNORECASE)
_DOMAIN_RE = re.compile(r'^(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$', re.IGNORECASE)
# A profile handle ('aligharib'): one long lower-case ASCII token ('dpa' and 'afp' are agencies).
_HANDLE_RE = re.compile(r'^[a-z0-9_]{6,}$')


def _is_organisation(name: str, orgs: set[str]) -> bool:
    """The outlet's own name (site, publisher, host) or something that is no person's name."""
    key = norm_key(name)
    squashed = ''.join(ch for ch in key if ch.isalnum())
    return (key in orgs or any(key and (key in org or org in key) for org in orgs) or squashed in orgs
            or bool(_ORG_WORD_RE.search(name) or _DOMAIN_RE.match(name) or _HANDLE_RE.match(name)))


def page_authors(meta: dict, ld: dict, feed_authors, tree=None, url: str | None = None) -> list[str]:
    """People named by JSON-LD and author meta tags, else the visible byline, else the feed; outlets dropped.

    The site, publisher or newsroom listed beside a named writer is the outlet, not an author, and an
    agency that JSON-LD types as an organisation counts only when no person is named. Organisations
    alone stay: they are the only credit the page gives (reading the visible byline for a person then
    lost as many pages of the metadata benchmark as it won).
    """
    names = _ld_names(ld.get('author'))
    for key in AUTHOR_META_KEYS:
        names.extend(v for v in meta.get(key, []) if not v.startswith(('http://', 'https://')))
    if not names and tree is not None:
        names.extend(visible_byline(tree))
    if not names:
        names.extend(clean_text(a) for a in feed_authors or () if isinstance(a, str))
    orgs = _organisation_names(meta, ld, url)
    typed = {norm_key(n) for n in _ld_names(_ld_organisations(ld.get('author')))}
    people, others, persons = _sort_names(names, orgs, typed)
    if not others and tree is not None and names:
        # The head credits only the outlet itself, which is no credit: a person in the visible byline wrote it.
        # (An agency the head names is a credit, and stays.)
        visible = [n for n in visible_byline(tree) if _is_person(n) and not _is_organisation(n, orgs)]
        if visible:
            return dedupe(visible)
    return dedupe(persons or others or people)


def _sort_names(names: list[str], orgs: set[str], typed: set[str]) -> tuple[list, list, list]:
    """(every name, those not the outlet's own or no name at all, those of them not typed as organisations)."""
    # A caption credit in an author tag ('(Image: Getty Images/iStockphoto)') goes whole, before splitting.
    people = [_ROLE_RE.sub('', _INITIALS_RE.sub('', part)) for name in names if not name.startswith('(')
              for part in _split_author(name) if not _NOT_A_NAME_RE.search(part)]
    others = [n for n in people if not _is_organisation(n, orgs)]
    return people, others, [n for n in others if norm_key(n) not in typed]


# ---------------------------------------------------------------------------
# The visible byline
# ---------------------------------------------------------------------------
_BYLINE_XPATH = ('//*[@itemprop="author" or @rel="author" or contains(@class, "byline") or '
                 'contains(@class, "author-name") or contains(@class, "author") or contains(@class, "byl")]')
_NOT_BYLINE_TAGS = frozenset({'meta', 'link', 'script', 'style', 'body', 'html', 'article', 'section', 'main'})
# A byline row holds more than names: a date, a role, the outlet, a place, share links. Its parts are
# the separate text nodes, and within one node the parts between ' / ', '|', '•' or '·'.
_BYLINE_PART_RE = re.compile(r'\s+/\s+|\s*[|•·]\s*')
_MAX_BYLINE_PARTS = 40
# Lower-case words a name may hold.
_PARTICLES = frozenset({'de', 'da', 'di', 'do', 'dos', 'das', 'del', 'della', 'van', 'von', 'der', 'den', 'ter',
                        'la', 'le', 'du', 'des', 'bin', 'bint', 'al', 'el', 'ibn', 'zu', 'y', 'e'})
# A writer's role, and the common words of outlet names ('Washington Post', 'NEW YORK DAILY NEWS').
_ROLE_OR_OUTLET_RE = re.compile(
    r'\b(?:writer|editor|reporter|correspondent|columnist|contributor|journalist|staff|producer|critic|'
    r'news|post|times|press|tribune|herald|journal|daily|gazette|media|network|agency)\b', re.IGNORECASE)
_DIGIT_RE = re.compile(r'\d')
# The parts that join two names ('and', a comma), and a part that ends by asking for another name.
_JOIN_PART_RE = re.compile(r'(?:and|und|og|och|et|y|e|en|i|&)?\s*[,;]?', re.IGNORECASE)
_ENDS_JOINED_RE = re.compile(r'(?:[,;&]|\s(?:and|und|og|och|et|y|e|en|i))$', re.IGNORECASE)


def visible_byline(tree) -> list[str]:
    """The writers named by the first byline element (itemprop/rel author, byline/author classes) naming any.

    Comment threads use the same classes for their posters, who are not the article's authors.
    Several rel/itemprop author elements side by side each name one author.
    """
    for el in tree.xpath(_BYLINE_XPATH):
        if el.tag in _NOT_BYLINE_TAGS or 'comment' in (el.get('class') or '').lower():
            continue
        # Inside a byline row, what schema.org or HTML marks as the author beats the row's other text.
        marked = el.xpath('.//*[@itemprop="author" or @rel="author"]')
        names = dedupe(n for inner in marked for n in _byline_names(inner)) or _byline_names(el)
        if names:
            return names + [n for sib in _author_siblings(el) for n in _byline_names(sib) if n not in names]
    return []


def _byline_names(el) -> list[str]:
    """The byline's first credit and the names joined to it by 'and' or a comma.

    What else follows the first name ends the list: a role, the outlet, a place, a date, a share link.
    A first credit that is no person ('AFP', 'Reuters, Miami', 'APC Staff') is the whole byline.
    """
    parts = [p.strip(' /|') for text in el.itertext() for p in _BYLINE_PART_RE.split(clean_text(text))]
    parts = [p for p in parts if p]
    if len(parts) > _MAX_BYLINE_PARTS:
        return []
    names: list[str] = []
    joined = False
    for part in parts:
        if _AUTHOR_PREFIX_RE.fullmatch(part) or (names and _JOIN_PART_RE.fullmatch(part)):
            joined = True
            continue
        if names and not joined:
            break
        found = _names_in(part, first=not names)
        if found and not names and not _is_person(found[0]):
            return found[:1]
        if found:
            names.extend(found)
            joined = bool(_ENDS_JOINED_RE.search(part))
        elif names:
            break
    return names or _names_in(_AUTHOR_PREFIX_RE.sub('', element_text(el)), first=True)


def _names_in(part: str, first: bool) -> list[str]:
    """The people one part names; a first part may be a credit that is no person. [] when it reads as prose."""
    pieces = _split_author(part)
    if first and _is_credit(pieces[0]) and not _is_person(pieces[0]):
        return pieces[:1]
    names = []
    for piece in pieces:
        if _is_person(piece):
            names.append(piece)
        elif not (len(piece.split()) == 1 or _ROLE_OR_OUTLET_RE.search(piece)):
            return []
    return names


def _is_person(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= _MAX_NAME_WORDS and not _ROLE_OR_OUTLET_RE.search(text) and _is_credit(text)


def _is_credit(text: str) -> bool:
    """Short, capitalised, no digits or brackets: a name, or a credit like 'AFP' or 'Staff Writer'."""
    words = text.split()
    if not words or len(words) > _MAX_NAME_WORDS or _DIGIT_RE.search(text) or _NOT_A_NAME_RE.search(text):
        return False
    return '(' not in text and ')' not in text and all(
        not w[:1].islower() or w in _PARTICLES or _ROLE_OR_OUTLET_RE.fullmatch(w) for w in words)


def _author_siblings(el) -> list:
    """Other rel/itemprop author elements under the same parent: 'A and B' marked up name by name."""
    if el.get('rel') != 'author' and el.get('itemprop') != 'author':
        return []
    parent = el.getparent()
    return [s for s in parent if s is not el and s.get('rel') == el.get('rel')
            and s.get('itemprop') == el.get('itemprop')] if parent is not None else []
