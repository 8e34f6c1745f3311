"""The wire-agency registry: plain data loaded from transforms/tag/data/agencies.yaml, compiled on the worker.

The registry travels through the pipeline as a side input of plain dicts (picklable, no compiled
regexes), and every worker builds its own `AgencyRegistry` from that data once. docs/agencies.md
describes the data and how names are matched.
"""
from __future__ import annotations

import functools
import re
from typing import Iterator
from urllib.parse import urlsplit

from schemas.errors import RegistryError
from transforms.tag.registry_data import load_registry_data, spelling_key, validate_registry_data

__all__ = ["AgencyRegistry", "RegistryError", "load_registry_data", "validate_registry_data"]

# Scripts written without spaces between words: a name in them has no word boundary to respect
# ("新华社北京4月24日电", "(서울=연합뉴스)"), so such names are matched wherever they occur.
_CJK = "\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef"
_CJK_RE = re.compile(f"[{_CJK}]")
# What may not touch a CJK name: a Latin letter or digit ("연합뉴스TV" is a broadcaster, "뉴스10" no
# agency). Kept to Latin-1 because a class with large Unicode ranges costs milliseconds to compile.
_SPACED_WORD = "[0-9A-Za-z_\u00c0-\u00ff]"
# A hyphen followed by a letter continues the word ("AP-NORC", "dpa-AFX"), so it is not a name boundary.
_START = r"(?<!\w)"
_END = r"(?!\w|-\w)"
_PLACEHOLDERS = {"{name}": "name_pattern", "{weak_name}": "weak_pattern", "{any_name}": "any_name_pattern"}


class AgencyRegistry:
    """Compiled view of the registry data: name lookup, agency-name regexes, own domains and datelines."""

    def __init__(self, entries: list[dict]):
        self._entries = entries
        self._aliases: dict[str, str] = {}
        self._codes: dict[str, str] = {}
        self._weak: dict[str, str] = {}
        self._domains: dict[str, str] = {}
        self._generic = {e["name"] for e in entries if e["generic"]}
        for entry in entries:
            self._index_entry(entry)
        # A spelling that is strong anywhere ("EFE" next to the weak "Efe") is strong.
        self._weak = {k: v for k, v in self._weak.items() if k not in self._codes}
        self.name_pattern = _names_pattern(self._aliases, self._codes)
        self.name_re = re.compile(self.name_pattern)
        self.credit_patterns = [(re.compile(p, re.I), e["name"]) for e in entries for p in e["credit_patterns"]]
        self.dateline_patterns = [(re.compile(p), e["name"]) for e in entries for p in e["dateline_patterns"]]
        self._compiled: dict[tuple[str, int], re.Pattern] = {}

    @classmethod
    def from_data(cls, data: list[dict]) -> "AgencyRegistry":
        """Build from plain registry data (as returned by load_registry_data), validating it again."""
        return cls(validate_registry_data(data))

    @classmethod
    def default(cls) -> "AgencyRegistry":
        """Build from the packaged agencies.yaml (load_registry_data has validated it)."""
        return cls(load_registry_data())

    def _index_entry(self, entry: dict) -> None:
        canonical = entry["name"]
        # Codes are credits when written as registered or in capitals ("dpa", "DPA"), never in other cases.
        for code in entry["codes"]:
            self._codes[code] = self._codes[code.upper()] = canonical
        for code in entry["weak_codes"]:
            self._weak[code] = self._weak[code.upper()] = canonical
        for alias in entry["aliases"]:
            self._aliases[spelling_key(alias)] = canonical
        # The canonical name itself is always a spelling: as a code or weak code if listed so, else an alias.
        if canonical not in entry["codes"] and canonical not in entry["weak_codes"]:
            self._aliases[spelling_key(canonical)] = canonical
        for domain in entry["domains"]:
            self._domains[domain] = canonical

    # Weak codes are for the few explicit credit forms, so their patterns are built on first use.
    @functools.cached_property
    def weak_pattern(self) -> str:
        """Regex alternative of the weak codes only."""
        return _names_pattern({}, self._weak)

    @functools.cached_property
    def any_name_pattern(self) -> str:
        """Regex alternative of every spelling, weak codes included."""
        return _names_pattern(self._aliases, {**self._codes, **self._weak})

    @functools.cached_property
    def _any_name_re(self) -> re.Pattern:
        return re.compile(self.any_name_pattern)

    @property
    def names(self) -> list[str]:
        """Canonical names in registry order."""
        return [e["name"] for e in self._entries]

    def canonical(self, name: str, weak: bool = True) -> str | None:
        """Map a name, alias, code or weak code as written on a page to its canonical name, or None.

        weak=False: a weak code alone ("AA", "MAP") maps to None, for places that are no explicit credit form.
        """
        if not isinstance(name, str):
            return None
        text = " ".join(name.split())
        found = self._codes.get(text) or (self._weak.get(text) if weak else None)
        return found or self._aliases.get(text.casefold())

    def is_weak(self, spelling: str) -> bool:
        """True when this spelling names an agency only inside an explicit credit form ("(AA)", "Kaynak: AA")."""
        if not isinstance(spelling, str):
            return False
        text = " ".join(spelling.split())
        return text in self._weak and text.casefold() not in self._aliases

    def is_generic(self, canonical: str | None) -> bool:
        """True for the pseudo-agency 'Agencies'."""
        return canonical in self._generic

    def agency_for_host(self, host: str) -> str | None:
        """The agency whose own site this host is (the domain or a subdomain of it), or None.

        Accepts a host name, "host:port" or a whole URL; the longest registered domain wins.
        """
        if not isinstance(host, str) or not host.strip():
            return None
        text = host.strip().lower()
        if "/" in text:
            text = (urlsplit(text if "//" in text else "//" + text).hostname or "")
        text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
        text = text.removeprefix("www.")
        labels = text.split(".")
        for i in range(len(labels) - 1):
            found = self._domains.get(".".join(labels[i:]))
            if found is not None:
                return found
        return None

    def find(self, text: str, weak: bool = False) -> Iterator[tuple[str, re.Match]]:
        """Yield (canonical, match) for every agency name written in text; weak codes too when weak=True."""
        name_re = self._any_name_re if weak else self.name_re
        for match in name_re.finditer(text or ""):
            canonical = self.canonical(match.group(0))
            if canonical is not None:
                yield canonical, match

    def compile(self, template: str, flags: int = 0) -> re.Pattern:
        """Compile a rule template once.

        '{name}' stands for any strong agency name, '{weak_name}' for a weak code only and
        '{any_name}' for either; a rule that accepts '{any_name}' must itself be an explicit credit form.
        """
        key = (template, flags)
        if key not in self._compiled:
            pattern = template
            for placeholder, attribute in _PLACEHOLDERS.items():
                if placeholder in pattern:
                    pattern = pattern.replace(placeholder, f"(?:{getattr(self, attribute)})")
            self._compiled[key] = re.compile(pattern, flags)
        return self._compiled[key]


def _names_pattern(aliases: dict[str, str], codes: dict[str, str]) -> str:
    """One regex alternative of every spelling: aliases case-insensitive, codes case-sensitive.

    Spelling keys of aliases are case-folded; case-insensitive matching makes that harmless. The
    spellings are written as a prefix tree, which keeps compiling and matching fast for hundreds of names.
    """
    parts = []
    for spellings, flag in ((aliases, "i"), (codes, "-i")):
        cjk = [s for s in spellings if _CJK_RE.search(s)]
        # A CJK name ending in a Latin letter or digit ("뉴스1") must not run on into a longer word.
        for latin_end, end in ((False, f"(?!{_SPACED_WORD})"), (True, rf"(?!{_SPACED_WORD}|-\w)")):
            group = [s for s in cjk if bool(re.match(_SPACED_WORD, s[-1])) == latin_end]
            if group:
                parts.append(f"(?<!{_SPACED_WORD})(?{flag}:{_trie(group)}){end}")
    plain = [f"(?{flag}:{_trie(group)})" for group, flag in (
        ([s for s in aliases if not _CJK_RE.search(s)], "i"), ([s for s in codes if not _CJK_RE.search(s)], "-i"))
        if group]
    if plain:
        parts.append(f"{_START}(?:{'|'.join(plain)}){_END}")
    # An empty set of names matches nothing rather than everything.
    return f"(?:{'|'.join(parts)})" if parts else r"(?!x)x"


def _trie(spellings: list[str]) -> str:
    """A regex for exactly these spellings, longest first, with shared prefixes written once."""
    root: dict = {}
    for spelling in spellings:
        node = root
        # Words may be separated by any whitespace; CJK words too ("독일 dpa통신").
        for token in re.findall(r"\s+|\S", " ".join(spelling.split())):
            node = node.setdefault(token, {})
        node[""] = {}
    return _render(root)


def _render(node: dict) -> str:
    alternatives = [(r"\s+" if key == " " else re.escape(key)) + _render(child)
                    for key, child in sorted(node.items()) if key]
    if not alternatives:
        return ""
    if len(alternatives) == 1 and "" not in node:
        return alternatives[0]
    return f"(?:{'|'.join(alternatives)})" + ("?" if "" in node else "")
