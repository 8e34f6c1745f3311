"""Wire-agency tagging with evidence: which agency a page credits, and the exact text that says so.

Only credit *forms* count: a dateline at the start of the story, a credit line at its end, a byline,
a structured author, a copyright line, or a syndication disclaimer. An agency named in running text
("Reuters reported", "told The Associated Press", "Pakistan Tehreek-e-Insaf (PTI)") or in a photo
credit ("(Photo: PTI)") is not a credit, so every rule is anchored to a position and a shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from transforms.tag.registry import AgencyRegistry

# How much one piece of evidence counts when evidence disagrees: the story's own dateline and credit
# line beat a byline or template metadata of another agency; a disclaimer only confirms syndication.
KIND_WEIGHT = {"provider": 4, "dateline": 3, "credit_line": 3, "copyright": 2, "byline": 2, "structured_author": 1,
               "disclaimer": 1}
# Lines this close to the start/end of the body are where datelines and credit lines live.
HEAD_LINES = 3
TAIL_LINES = 6
# Page lines this close before the body are the byline row; after it, the credit/source row.
PAGE_HEAD_WINDOW = 8
PAGE_TAIL_WINDOW = 6
# Page lines shorter than this cannot anchor the body reliably ("Advertisement", "US").
ANCHOR_MIN_CHARS = 40
ANCHOR_PROBE_CHARS = 60
# Without extractor text, a page line this long is taken to be a story paragraph.
PARAGRAPH_MIN_CHARS = 120
# A dateline's place-and-date part is short; anything longer is a sentence.
DATELINE_MAX_PREFIX = 80

_DASH = r"(?:-{1,2}|[–—―])"
_PHOTO_RE = re.compile(
    r"\b(?:photos?|photograph|image|images|pic|pics|picture|file\s+photo|video|graphic|illustration|"
    r"cartoon|representational)\b", re.I)
_SPACE_RE = re.compile(r"\s+")

# Whole-line credit: "IANS", "(IANS)", "— PTI", "With inputs from PTI", "Source: PTI", "— Agencies".
_CREDIT_LINE = (
    r"^[(\[]?\s*(?:" + _DASH + r"\s*)?"
    r"(?:(?:with\s+(?:additional\s+)?inputs?\s+from|inputs?\s+from|source|agency|courtesy|credit)"
    r"\s*(?::|" + _DASH + r")?\s*)?"
    r"(?:the\s+)?{name}(?:\s*(?:,|/|&|\band\b)\s*(?:the\s+)?{name})*"
    r"\s*[)\]]?\s*\.?$"
)
# "Associated Press writer X in Y contributed to this report." names the agency; Reuters'
# "(Reporting by ...; Editing by ...)" does not, so it is deliberately absent.
_CONTRIBUTED = (
    r"^(?:the\s+)?{name}(?:\s+(?:staff\s+)?(?:writers?|reporters?|correspondents?|journalists?)\b[^.]{0,120})?"
    r"\s+contributed(?:\s+reporting)?\s+to\s+this\s+(?:report|story)\.?$"
)
# "WASHINGTON (AP) —", "(Reuters) -", "New Delhi, Nov 20 (PTI)", "Washington [US], April 12 (ANI):".
_DATELINE = (
    r"^\s*(?P<place>[^()\n]{0," + str(DATELINE_MAX_PREFIX) + r"}?)\s*"
    r"\(\s*(?P<agency>{name})\s*\)\s*(?P<sep>" + _DASH + r"|:)?"
)
# "... said on Monday. (IANS)", "... the report. --IANS", "... announced. PTI".
_INLINE_END = (
    r"(?<=[.!?\"”’'])\s*(?P<credit>\(\s*{name}\s*\)|" + _DASH + r"\s*{name}|{name})\s*\.?\s*$"
)
# "© Thomson Reuters 2019", "(c) Copyright Thomson Reuters 2016", "Copyright 2019 The Associated Press."
_COPYRIGHT = (
    r"^\s*(?:©|\(c\)|copyright\b)\s*(?:©|\(c\))?\s*(?:copyright\b)?\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?"
    r"(?:the\s+)?(?P<agency>{name})"
)
_DISCLAIMER_RE = re.compile(
    r"auto-?generated\s+from|syndicated\s+feed|(?:news\s+)?agency\s+feeds?|"
    r"not\s+been\s+edited\s+by\s+.{0,60}\bstaff", re.I)
_MONTH_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*\d{1,2}\b|\b\d{1,2}\s+"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)", re.I)
_SENTENCE_END_RE = re.compile(r"[.!?]\s+[a-z]|[\"“”]")
# "By", and its German/French/Spanish/Italian/Dutch forms on the same byline rows.
_BY_PREFIX_RE = re.compile(r"^(?:(?:(?:written|posted|edited|compiled)\s+)?by|von|par|por|di|door)\s*:?\s+", re.I)
_LABEL_PREFIX_RE = re.compile(r"^(?:source|agency|courtesy|credit|provided\s+by)\s*:?\s*", re.I)
_BYLINE_SPLIT_RE = re.compile(r"\s*[|·•]\s*|\n")
# A place in "PTI, Washington" or "PTI, New York, Nov 20 2019, 10:18am ist": capitalised words.
_PLACE = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}(?:\s*\[[^\]]{1,30}\])?"
_NAME_WORDS = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|da|al|bin|der|del|la|le)){0,5}"
# One or more people: "Arjun Delacroix", "Felix Schröder und Jörg Soldwisch".
_PERSON = _NAME_WORDS + r"(?:\s*(?:,|&|\band\b|\bund\b|\bet\b|\by\b|\be\b)\s*" + _NAME_WORDS + r"){0,3}"


@dataclass(frozen=True)
class Evidence:
    """One credit found on the page."""

    agency: str
    kind: str
    text: str

    def as_dict(self) -> dict:
        return {"agency": self.agency, "kind": self.kind, "text": self.text}


def tag_agency(raw_lines: list[str], removed_lines: list[str], signals: dict, registry: AgencyRegistry,
               agency_hint: str | None = None) -> tuple[str | None, list[dict]]:
    """Return (canonical agency or None, evidence dicts {'agency','kind','text'}) for one page.

    raw_lines: the extracted article paragraphs before cleaning; removed_lines: lines a cleaner took out
    of the body; signals: page_signals() output (missing keys are treated as empty); agency_hint: an
    agency named by the feed entry, used only to break a tie between agencies the page itself credits.
    """
    raw = _clean_lines(raw_lines)
    removed = _clean_lines(removed_lines)
    signals = signals or {}
    page = _PageRegions.locate(_clean_lines(signals.get("page_lines")), raw)
    captions = set(_clean_lines(signals.get("caption_lines")))
    evidence = _dedupe(_collect(raw, removed, signals, page, captions, registry))
    agency = _choose(evidence, registry, registry.canonical(agency_hint or ""))
    if agency is not None:
        evidence = _dedupe(evidence + list(_disclaimers(raw, removed, page.lines, agency)))
    return agency, [e.as_dict() for e in _ordered(evidence, agency)]


def _clean_lines(lines: Iterable[str] | None) -> list[str]:
    return [_SPACE_RE.sub(" ", line).strip() for line in (lines or []) if line and line.strip()]


class _PageRegions:
    """The page's visible lines split around the extracted body: byline row before, credit row after."""

    def __init__(self, lines: list[str], start: int | None, end: int | None):
        self.lines = lines
        self.found = start is not None
        self.head = lines[max(0, start - PAGE_HEAD_WINDOW):start] if self.found else []
        self.body = lines[start:end + 1] if self.found else []
        self.tail = lines[end + 1:end + 1 + PAGE_TAIL_WINDOW] if self.found else []

    @classmethod
    def locate(cls, lines: list[str], raw: list[str]) -> "_PageRegions":
        # The body is where the page's long lines reappear in the extractor's text; the probe is a
        # prefix so that an extractor joining or splitting paragraphs still anchors.
        text = "\n".join(raw)
        hits = [i for i, line in enumerate(lines)
                if len(line) >= ANCHOR_MIN_CHARS and line[:ANCHOR_PROBE_CHARS] in text]
        if not hits:
            # No extractor text to anchor on (extraction failed or was skipped): paragraph-length
            # lines are the best remaining guess for where the story is.
            hits = [i for i, line in enumerate(lines) if len(line) >= PARAGRAPH_MIN_CHARS]
        if not hits:
            return cls(lines, None, None)
        return cls(lines, hits[0], hits[-1])


def _collect(raw: list[str], removed: list[str], signals: dict, page: _PageRegions, captions: set[str],
             registry: AgencyRegistry) -> Iterator[Evidence]:
    # The page's body anchor can be the headline when the extractor kept it, so the byline row and
    # dateline may sit in the first few body lines rather than before them.
    page_paragraphs = [line for line in page.body if len(line) >= ANCHOR_MIN_CHARS]
    yield from _datelines(raw[:HEAD_LINES] + page_paragraphs[:HEAD_LINES], registry)
    yield from _bylines(signals.get("bylines") or [], "byline", registry, strict=False)
    yield from _bylines(page.head + page.body[:HEAD_LINES + 1] + raw[:2], "byline", registry, strict=True)
    yield from _bylines(signals.get("structured_authors") or [], "structured_author", registry, strict=False)
    ends = [line for line in raw[-TAIL_LINES:] + removed + page.body[-3:] + page.tail if line not in captions]
    yield from _credit_lines(ends, registry)
    yield from _inline_ends(_last_paragraphs(raw) + page.body[-1:], registry)
    yield from _copyrights(raw + removed + page.lines, registry)
    yield from _named_disclaimers(raw + removed + page.lines, registry)


# ------------------------------------------------------------------------------------------ datelines
def _datelines(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    pattern = registry.compile(_DATELINE)
    for line in lines:
        match = pattern.match(line)
        if match and _looks_like_dateline(match):
            agency = registry.canonical(match.group("agency"))
            if agency:
                yield Evidence(agency, "dateline", match.group(0).strip())


def _looks_like_dateline(match: re.Match) -> bool:
    place, sep = match.group("place").strip(), match.group("sep")
    if not place:
        return bool(sep)  # "(Reuters) -" yes; a sentence opening with "(AP)" no.
    if not place[0].isupper() or _SENTENCE_END_RE.search(place) or len(place.split()) > 10:
        return False
    letters = [c for c in place if c.isalpha()]
    shouting = bool(letters) and all(c.isupper() for c in letters)
    # "Pakistan Tehreek-e-Insaf (PTI) chairman ..." has neither a date, a separator nor a capitalised place.
    return bool(sep) or shouting or bool(_MONTH_RE.search(place))


# -------------------------------------------------------------------------------------------- bylines
def _bylines(texts: Iterable[str], kind: str, registry: AgencyRegistry, strict: bool) -> Iterator[Evidence]:
    for text in texts:
        text = _SPACE_RE.sub(" ", text or "").strip()
        if not text or _PHOTO_RE.search(text):
            continue
        for agency in _byline_agencies(text, registry, strict):
            yield Evidence(agency, kind, text)


def _byline_agencies(text: str, registry: AgencyRegistry, strict: bool) -> list[str]:
    # strict: an unlabelled page line must itself look like a byline row ("IANS | Washington",
    # "By IANS", a bare agency name) before its segments are read.
    if strict and not ("|" in text or _BY_PREFIX_RE.match(text) or registry.canonical(text)
                       or registry.compile(r"^{name}\s*,\s*" + _PLACE).match(text)):
        return []
    found = []
    for segment in _BYLINE_SPLIT_RE.split(text):
        agency = _segment_agency(segment.strip(" ,;:-–—"), registry)
        if agency and agency not in found:
            found.append(agency)
    return found


def _segment_agency(segment: str, registry: AgencyRegistry) -> str | None:
    segment = _LABEL_PREFIX_RE.sub("", _BY_PREFIX_RE.sub("", segment)).strip()
    if not segment:
        return None
    whole = registry.canonical(re.sub(r"^the\s+", "", segment, flags=re.I))
    if whole:
        return whole
    for template in (r"^(?:the\s+)?(?P<agency>{name})\s*,\s*" + _PLACE + r"(?:\s*,\s*.*\d.*)?$",
                     r"^" + _PERSON + r"\s*(?:,|\bof\b|\bfor\b)?\s+(?:the\s+)?(?P<agency>{name})$",
                     r"^" + _PERSON + r",\s*(?:the\s+)?(?P<agency>{name})$"):
        match = registry.compile(template).match(segment)
        if match and _single_agency(match.group(0), registry):
            return registry.canonical(match.group("agency"))
    return None


def _single_agency(text: str, registry: AgencyRegistry) -> bool:
    # "AFP, Reuters sue Google" names two agencies: a headline, not a byline.
    return len({c for c, _ in registry.find(text)}) == 1


# --------------------------------------------------------------------------------------- credit lines
def _credit_lines(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    credit = registry.compile(_CREDIT_LINE, re.I)
    contributed = registry.compile(_CONTRIBUTED, re.I)
    for line in lines:
        if _PHOTO_RE.search(line) or len(line) > 300:
            continue
        if credit.match(line) or contributed.match(line):
            for agency, _ in registry.find(line):
                yield Evidence(agency, "credit_line", line)
            continue
        for pattern, agency in registry.credit_patterns:
            if pattern.search(line):
                yield Evidence(agency, "credit_line", line)


def _last_paragraphs(raw: list[str]) -> list[str]:
    # The inline end credit sits on the last story paragraph; skip trailing disclaimers and short lines.
    paragraphs = [line for line in raw if len(line) >= ANCHOR_MIN_CHARS and not _DISCLAIMER_RE.search(line)]
    return paragraphs[-2:]


def _inline_ends(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    pattern = registry.compile(_INLINE_END)
    for line in lines:
        match = pattern.search(line)
        if not match or _PHOTO_RE.search(line[max(0, match.start() - 20):]):
            continue
        for agency, _ in registry.find(match.group("credit")):
            yield Evidence(agency, "credit_line", match.group("credit").strip())


# ----------------------------------------------------------------------------- copyright, disclaimers
def _copyrights(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    pattern = registry.compile(_COPYRIGHT, re.I)
    for line in lines:
        match = pattern.match(line)
        # "© REUTERS / POOL", "© AFP / Jane Doe" are photographer credits, not the story's copyright.
        if match and len(line) <= 300 and not _PHOTO_RE.search(line[:match.end() + 10]) \
                and not line[match.end():].lstrip().startswith("/"):
            agency = registry.canonical(match.group("agency"))
            if agency:
                yield Evidence(agency, "copyright", line)


def _named_disclaimers(lines: list[str], registry: AgencyRegistry) -> Iterator[Evidence]:
    # "... auto-generated from a PTI feed" names the agency itself.
    for line in lines:
        if len(line) <= 300 and _DISCLAIMER_RE.search(line):
            for agency, _ in registry.find(line):
                yield Evidence(agency, "disclaimer", line)


def _disclaimers(raw: list[str], removed: list[str], page_lines: list[str], agency: str) -> Iterator[Evidence]:
    # A disclaimer that names no agency confirms the syndication credited elsewhere on the page.
    for line in raw + removed + page_lines:
        if len(line) <= 300 and _DISCLAIMER_RE.search(line):
            yield Evidence(agency, "disclaimer", line)


# ---------------------------------------------------------------------------------------- decision
def _dedupe(evidence: Iterable[Evidence]) -> list[Evidence]:
    return list(dict.fromkeys(evidence))


def _choose(evidence: list[Evidence], registry: AgencyRegistry, hint: str | None) -> str | None:
    scores: dict[str, tuple[int, int]] = {}
    for item in evidence:
        best, total = scores.get(item.agency, (0, 0))
        weight = KIND_WEIGHT[item.kind]
        scores[item.agency] = (max(best, weight), total + weight)
    if not scores:
        return None
    named = {a: s for a, s in scores.items() if not registry.is_generic(a)}
    # "Agencies" is a credit only when no named agency is credited by anything stronger than metadata.
    if named and (max(s[0] for s in named.values()) >= 2 or not scores.keys() - named.keys()):
        scores = named
    return max(scores, key=lambda a: (scores[a][0], scores[a][1], a == hint))


def _ordered(evidence: list[Evidence], agency: str | None) -> list[Evidence]:
    # The chosen agency's evidence first, strongest kind first; the rest is kept for auditing.
    return sorted(evidence, key=lambda e: (e.agency != agency, -KIND_WEIGHT[e.kind]))
