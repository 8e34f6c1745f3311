"""What a credit found on a page is worth, and how the page's agency is chosen from all of them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# How much one piece of evidence counts when evidence disagrees. The agency's own site and the
# story's own dateline and credit line beat a byline or template metadata of another agency; a
# disclaimer only confirms syndication. A contribution ("with files from AP") and the second and
# later agencies of a multi-agency credit ("APA/sda/dpa") are kept as evidence but never chosen.
KIND_WEIGHT = {"provider": 5, "own_site": 4, "dateline": 3, "credit_line": 3, "copyright": 2, "byline": 2,
               "structured_author": 1, "disclaimer": 1, "co_credit": 0, "contribution": 0}


@dataclass(frozen=True)
class Evidence:
    """One credit found on the page."""

    agency: str
    kind: str
    text: str

    def as_dict(self) -> dict:
        return {"agency": self.agency, "kind": self.kind, "text": self.text}


def dedupe(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Evidence in first-seen order, each once; a contribution or co-credit also found as a credit is dropped."""
    unique = list(dict.fromkeys(evidence))
    credited = {(e.agency, e.text) for e in unique if KIND_WEIGHT[e.kind] > 0}
    return [e for e in unique if KIND_WEIGHT[e.kind] > 0 or (e.agency, e.text) not in credited]


def without_contributed(evidence: list[Evidence], is_bare_name, staff_byline: bool) -> list[Evidence]:
    """Drop weak credits of an agency that a staff story names only as a contributor.

    On a staff story (its byline names the outlet or a writer) that says "The Associated Press
    contributed to this report", a bare "AP" near the lead is a photo credit and a structured author
    "AP" is template metadata: neither makes the page AP's. A dateline, credit line or explicit
    byline of that agency still counts, and without a staff byline the agency's own trailer
    ("With reporting by Associated Press writer ...") is no reason to doubt its byline.
    """
    contributors = {e.agency for e in evidence if e.kind == "contribution"}
    if not contributors or not staff_byline:
        return evidence
    def weak(e: Evidence) -> bool:
        return e.kind in ("structured_author", "disclaimer") or (e.kind == "byline" and is_bare_name(e.text))

    return [e for e in evidence if not (e.agency in contributors and weak(e))]


def choose(evidence: list[Evidence], is_generic, hint: str | None) -> str | None:
    """The page's agency: strongest evidence first, then most evidence, then the feed's hint, then page order."""
    scores: dict[str, tuple[int, int]] = {}
    for item in evidence:
        weight = KIND_WEIGHT[item.kind]
        if weight == 0:
            continue
        best, total = scores.get(item.agency, (0, 0))
        scores[item.agency] = (max(best, weight), total + weight)
    if not scores:
        return None
    named = {a: s for a, s in scores.items() if not is_generic(a)}
    # "Agencies" is a credit only when no named agency is credited by anything stronger than metadata.
    if named and (max(s[0] for s in named.values()) >= 2 or not scores.keys() - named.keys()):
        scores = named
    order = {agency: i for i, agency in enumerate(scores)}
    return max(scores, key=lambda a: (scores[a][0], scores[a][1], a == hint, -order[a]))


def ordered(evidence: list[Evidence], agency: str | None) -> list[Evidence]:
    """The chosen agency's evidence first, strongest kind first; the rest is kept for auditing."""
    return sorted(evidence, key=lambda e: (e.agency != agency, -KIND_WEIGHT[e.kind]))
