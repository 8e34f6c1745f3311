"""Wire-agency tagging with evidence: which agency a page credits, and the exact text that says so.

Only credit *forms* count (transforms/tag/forms.py): the agency's own site, a dateline at the start
of the story, a credit line or trailer at its end, a byline, a structured author, a copyright line,
or a syndication disclaimer. An agency named in running text ("Reuters reported", "told The
Associated Press", "Pakistan Tehreek-e-Insaf (PTI)"), in a photo credit ("(Photo: PTI)") or in a
related-story teaser is not a credit, so every rule is anchored to a position and a shape. A staff
story's acknowledgement ("with files from AP", "avec AFP") is kept as `contribution` evidence and
never becomes the page's agency.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Iterator
from urllib.parse import urlsplit

from transforms.tag import forms
from transforms.tag.evidence import Evidence, choose, dedupe, ordered, without_contributed
from transforms.tag.regions import ANCHOR_MIN_CHARS, HEAD_LINES, TAIL_LINES, PageRegions, article_bylines
from transforms.tag.registry import AgencyRegistry

_FULL_WIDTH_RE = re.compile("[\uff01-\uff5e]")


def tag_agency(raw_lines: list[str], removed_lines: list[str], signals: dict, registry: AgencyRegistry,
               agency_hint: str | None = None, url: str | None = None) -> tuple[str | None, list[dict]]:
    """Return (canonical agency or None, evidence dicts {'agency','kind','text'}) for one page.

    raw_lines: the extracted article paragraphs before cleaning; removed_lines: lines a cleaner took out
    of the body; signals: page_signals() output (missing keys are treated as empty); agency_hint: an
    agency named by the feed entry, used only to break a tie between agencies the page itself credits;
    url: the page's URL, whose host may be the agency's own site.
    """
    raw = _clean_lines(raw_lines)
    removed = _clean_lines(removed_lines)
    signals = signals or {}
    page = PageRegions.locate(_clean_lines(signals.get("page_lines")), raw)
    captions = set(_clean_lines(signals.get("caption_lines")))
    bylines = article_bylines(_clean_lines(signals.get("bylines")), page)
    evidence = dedupe(_collect(raw, removed, signals, bylines, page, captions, registry, url))
    staff = any(not _strong(registry, text) for text in bylines)
    evidence = without_contributed(evidence, lambda text: registry.canonical(_strip_by(text)) is not None, staff)
    agency = choose(evidence, registry.is_generic, registry.canonical(agency_hint or ""))
    if agency is not None:
        evidence = dedupe(evidence + list(_disclaimers(raw, removed, page.lines, agency)))
    return agency, [e.as_dict() for e in ordered(evidence, agency)]


def _clean_lines(lines: Iterable[str] | None) -> list[str]:
    return [forms.SPACE_RE.sub(" ", _half_width(line)).strip() for line in (lines or []) if line and line.strip()]


def _half_width(line: str) -> str:
    # Japanese and Chinese pages write Latin credits in full width ("（ＡＰ）", "ＡＦＰ＝時事"); NFKC folds them.
    return unicodedata.normalize("NFKC", line) if _FULL_WIDTH_RE.search(line) else line


def _collect(raw: list[str], removed: list[str], signals: dict, bylines: list[str], page: PageRegions,
             captions: set[str], registry: AgencyRegistry, url: str | None) -> Iterator[Evidence]:
    yield from _own_site(url, registry)
    # The page's body anchor can be the headline when the extractor kept it, so the byline row and
    # dateline may sit in the first few body lines rather than before them.
    page_paragraphs = [line for line in page.body if len(line) >= ANCHOR_MIN_CHARS]
    yield from _datelines(raw[:HEAD_LINES] + page_paragraphs[:HEAD_LINES], registry)
    yield from _bylines(bylines, "byline", registry, strict=False)
    head = page.head + page.body[:HEAD_LINES + 1] + raw[:2]
    yield from _bylines(head, "byline", registry, strict=True)
    yield from _bylines(_clean_lines(signals.get("structured_authors")), "structured_author", registry, strict=False)
    ends = [line for line in raw[-TAIL_LINES:] + removed + page.body[-3:] + page.tail if line not in captions]
    yield from _credit_lines(ends, registry)
    # Before the story only a labelled source or a trailer list counts: a bare "AP" there is a photo credit.
    yield from _credit_lines([line for line in head if line not in captions], registry, lists_only=True)
    yield from _inline_ends(_last_paragraphs(raw) + page.body[-1:], registry)
    yield from _copyrights(raw + removed + page.lines, registry)
    yield from _contributions(raw[-TAIL_LINES:] + removed + page.tail + head + bylines, registry)
    yield from _named_disclaimers(raw + removed + page.lines, registry)


def _strong(registry: AgencyRegistry, text: str) -> list[tuple[str, re.Match]]:
    """Agencies named in text, leaving out weak codes ("AA", "MAP") that need an explicit credit form."""
    return [(c, m) for c, m in registry.find(text) if not registry.is_weak(m.group(0))]


def _strip_by(text: str) -> str:
    return forms.LABEL_PREFIX_RE.sub("", forms.BY_PREFIX_RE.sub("", text)).strip(" ,;:-–—")


# ------------------------------------------------------------------------------------- own site
def _own_site(url: str | None, registry: AgencyRegistry) -> Iterator[Evidence]:
    host = urlsplit(url or "").hostname or ""
    agency = registry.agency_for_host(host) if host else None
    if agency:
        yield Evidence(agency, "own_site", host)


# ------------------------------------------------------------------------------------------ datelines
def _datelines(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    pattern = registry.compile(forms.DATELINE)
    brackets = [registry.compile(p) for p in forms.BRACKET_DATELINES]
    for line in lines:
        match = pattern.match(line)
        if match and _looks_like_dateline(match):
            agency = registry.canonical(match.group("agency"))
            if agency:
                yield Evidence(agency, "dateline", match.group(0).strip())
        for bracket in brackets:
            match = bracket.match(line)
            agency = registry.canonical(match.group("agency")) if match else None
            if agency:
                yield Evidence(agency, "dateline", match.group(0).strip())
        for own, agency in registry.dateline_patterns:
            match = own.match(line)
            if match:
                yield Evidence(agency, "dateline", match.group(0).strip())


def _looks_like_dateline(match: re.Match) -> bool:
    place, sep = match.group("place").strip(), match.group("sep")
    if not place:
        return bool(sep)  # "(Reuters) -" yes; a sentence opening with "(AP)" no.
    if place[0].islower() or forms.SENTENCE_END_RE.search(place) or len(place.split()) > 10:
        return False
    letters = [c for c in place if c.isalpha()]
    # Scripts without case (Chinese, Arabic, ...) cannot shout; a short place there is a place.
    shouting = bool(letters) and all(c.isupper() or not c.islower() for c in letters)
    # "Pakistan Tehreek-e-Insaf (PTI) chairman ..." has neither a date, a separator nor a capitalised place.
    return bool(sep) or shouting or bool(forms.MONTH_RE.search(place))


# -------------------------------------------------------------------------------------------- bylines
def _bylines(texts: Iterable[str], kind: str, registry: AgencyRegistry, strict: bool) -> Iterator[Evidence]:
    for text in texts:
        text = forms.SPACE_RE.sub(" ", text or "").strip()
        if not text or forms.PHOTO_RE.search(text):
            continue
        listed = _credit_list(text, registry)
        if listed:
            # "Quelle: ntv.de, ino/dpa", "Bron: BELGA" marked up as the article's source row.
            yield Evidence(listed[0], kind, text)
            yield from (Evidence(other, "co_credit", text) for other in listed[1:])
            continue
        for agency, form in _byline_agencies(text, registry, strict):
            yield Evidence(agency, kind if form == "byline" else form, text)


def _byline_agencies(text: str, registry: AgencyRegistry, strict: bool) -> list[tuple[str, str]]:
    # strict: an unlabelled page line must itself look like a byline row ("IANS | Washington",
    # "By IANS", a bare agency name) before its segments are read.
    if strict and not ("|" in text or forms.BY_PREFIX_RE.match(text) or _canonical_strong(text, registry)
                       or registry.compile(r"^{name}\s*,\s*" + forms.PLACE).match(text)):
        return []
    found: list[tuple[str, str]] = []
    for segment in forms.BYLINE_SPLIT_RE.split(text):
        hit = _segment_agency(segment.strip(" ,;:-–—"), registry)
        if hit and hit[0] not in {a for a, _ in found}:
            found.append(hit)
    return found


def _canonical_strong(text: str, registry: AgencyRegistry) -> str | None:
    text = re.sub(r"^the\s+", "", text.strip(), flags=re.I)
    return None if registry.is_weak(text) else registry.canonical(text)


def _segment_agency(segment: str, registry: AgencyRegistry) -> tuple[str, str] | None:
    segment = _strip_by(segment)
    if not segment:
        return None
    whole = _canonical_strong(segment, registry)
    if whole:
        return whole, "byline"
    for template, kind in forms.BYLINE_FORMS:
        match = registry.compile(template).match(segment)
        if match and _single_agency(match.group(0), registry) and not registry.is_weak(match.group("agency")):
            return registry.canonical(match.group("agency")), kind
    return None


def _single_agency(text: str, registry: AgencyRegistry) -> bool:
    # "AFP, Reuters sue Google" names two agencies: a headline, not a byline.
    return len({c for c, _ in registry.find(text)}) == 1


# --------------------------------------------------------------------------------------- credit lines
def _credit_lines(lines: list[str], registry: AgencyRegistry, lists_only: bool = False) -> Iterator[Evidence]:
    credit = registry.compile(forms.CREDIT_LINE, re.I)
    for line in lines:
        if forms.PHOTO_RE.search(line) or len(line) > 300:
            continue
        agencies = _credit_list(line, registry)
        if agencies is None and not lists_only and credit.match(line):
            agencies = [c for c, _ in _strong(registry, line)] or None
        if agencies:
            yield Evidence(agencies[0], "credit_line", line)
            yield from (Evidence(other, "co_credit", line) for other in agencies[1:])
            continue
        if lists_only:
            continue
        published = [m for m in (registry.compile(p, re.IGNORECASE).match(line) for p in forms.PUBLISHED_BY) if m]
        if published:
            yield Evidence(registry.canonical(published[0].group("agency")), "credit_line", line)
            continue
        for pattern, agency in registry.credit_patterns:
            if pattern.search(line):
                yield Evidence(agency, "credit_line", line)


def _credit_list(line: str, registry: AgencyRegistry) -> list[str] | None:
    """Agencies of a line that is nothing but a credit list, in order; None for any other line.

    "SDA/sep", "sak/Reuters", "(Quelle: APA/sda/dpa)", "Quelle: ntv.de, ino/dpa", "Bron: BELGA",
    "Kaynak: AA", "red, ORF.at/Agenturen": agencies beside editors' initials and the outlet's own name.
    """
    stripped = line.strip().rstrip(".").strip()
    # "(PAP)", "/ritzau/": an enclosed name standing alone is an explicit credit form.
    enclosed = bool(re.fullmatch(r"\(.+\)|（.+）|\[.+\]|/.+/", stripped))
    text = stripped.strip("()[]（）/").rstrip(".").strip()
    if len(text) > 80:
        return None
    labelled = forms.SOURCE_LABEL_RE.match(text)
    if labelled:
        text = text[labelled.end():]
    parts = [p.strip() for p in forms.LIST_SPLIT_RE.split(text) if p.strip()]
    if not parts or (len(parts) == 1 and not (labelled or enclosed)):
        return None
    agencies: list[str] = []
    initials = False
    for part in parts:
        canonical = registry.canonical(re.sub(r"^the\s+", "", part, flags=re.I))
        if canonical:
            if canonical not in agencies:
                agencies.append(canonical)
        elif forms.INITIALS_RE.fullmatch(part) or forms.OUTLET_RE.fullmatch(part):
            initials = True
        else:
            return None
    # Weak codes alone ("MAP/PA") need a label, brackets or an editor's initials ("PAP/kgr") to be a credit.
    weak_only = all(registry.is_weak(p) for p in parts if registry.canonical(p))
    if weak_only and not (labelled or enclosed or initials):
        return None
    return agencies or None


def _last_paragraphs(raw: list[str]) -> list[str]:
    # The inline end credit sits on the last story paragraph; skip trailing disclaimers and short lines.
    paragraphs = [line for line in raw if len(line) >= ANCHOR_MIN_CHARS and not forms.is_disclaimer(line)]
    return paragraphs[-2:]


def _inline_ends(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    pattern = registry.compile(forms.INLINE_END)
    for line in lines:
        match = pattern.search(line)
        if not match or forms.PHOTO_RE.search(line[max(0, match.start() - 20):]):
            continue
        for agency, _ in _strong(registry, match.group("credit")):
            yield Evidence(agency, "credit_line", match.group("credit").strip())


# ----------------------------------------------------------------- copyright, contributions, disclaimers
def _copyrights(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    pattern = registry.compile(forms.COPYRIGHT, re.I)
    for line in lines:
        match = pattern.match(line)
        # "© REUTERS / POOL", "© AFP / Jane Doe" are photographer credits, not the story's copyright.
        if match and len(line) <= 300 and not forms.PHOTO_RE.search(line[:match.end() + 10]) \
                and not line[match.end():].lstrip().startswith("/") and not registry.is_weak(match.group("agency")):
            agency = registry.canonical(match.group("agency"))
            if agency:
                yield Evidence(agency, "copyright", line)


def _contributions(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    patterns = [registry.compile(p, re.I) for p in forms.CONTRIBUTIONS]
    for line in lines:
        if len(line) > 300:
            continue
        for pattern in patterns:
            match = pattern.search(line)
            if not match:
                continue
            # Every agency from the form on: "... sowie der Nachrichtenagenturen AFP, AP, dpa und Reuters."
            # A contribution is an explicit form, so weak codes count ("Additional reporting from PA").
            named = list(dict.fromkeys(a for a, _ in registry.find(line[match.start():], weak=True)))
            if any(not registry.is_generic(a) for a in named):
                yield from (Evidence(a, "contribution", line) for a in named if not registry.is_generic(a))
            else:
                # Unnamed wires only ("with inputs from Agencies"): the generic credit, with its evidence.
                yield from (Evidence(a, "credit_line", line) for a in named)
            break


def _named_disclaimers(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    # "... auto-generated from a PTI feed" names the agency itself.
    for line in lines:
        if len(line) <= 300 and forms.is_disclaimer(line):
            for agency, _ in _strong(registry, line):
                yield Evidence(agency, "disclaimer", line)


def _disclaimers(raw: list[str], removed: list[str], page_lines: list[str], agency: str) -> Iterator[Evidence]:
    # A disclaimer that names no agency confirms the syndication credited elsewhere on the page.
    for line in raw + removed + page_lines:
        if len(line) <= 300 and forms.is_disclaimer(line):
            yield Evidence(agency, "disclaimer", line)
