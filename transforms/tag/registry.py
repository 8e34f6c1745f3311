"""The wire-agency registry: plain data loaded from transforms/tag/data/agencies.yaml, compiled on the worker.

The registry travels through the pipeline as a side input of plain dicts (picklable, no compiled
regexes), and every worker builds its own `AgencyRegistry` from that data once.
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

import yaml

from schemas.errors import RegistryError, yaml_problem

_ENTRY_KEYS = frozenset({"name", "aliases", "codes", "generic", "credit_patterns"})
_REQUIRED_KEYS = frozenset({"name"})


def load_registry_data(path: str | None = None) -> list[dict]:
    """Read the registry YAML (the packaged file by default) and return validated plain data."""
    text = _read_registry_text(path)
    name = path or "agencies.yaml"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RegistryError(f"agency registry {name}: {yaml_problem(err)}") from None
    try:
        return validate_registry_data(data)
    except RegistryError as err:
        raise RegistryError(f"{name}: {err}") from None


def _read_registry_text(path: str | None) -> str:
    if path is not None:
        try:
            return Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise RegistryError(f"agency registry {path}: cannot be read: {reason}") from None
    # importlib.resources also works when the package is installed as a zip or wheel on a worker.
    return resources.files("transforms.tag").joinpath("data", "agencies.yaml").read_text(encoding="utf-8")


def validate_registry_data(data: Any) -> list[dict]:
    """Check the structure of registry data and return it normalised; raise RegistryError on the first problem."""
    if not isinstance(data, list) or not data:
        raise RegistryError(f"agency registry must be a non-empty list of entries, got {type(data).__name__}")
    entries = [_validate_entry(i, raw) for i, raw in enumerate(data)]
    _check_unique_names(entries)
    return entries


def _validate_entry(index: int, raw: Any) -> dict:
    where = f"agency registry entry #{index}"
    if not isinstance(raw, dict):
        raise RegistryError(f"{where} must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise RegistryError(f"{where} has unknown keys {sorted(unknown)}; allowed: {sorted(_ENTRY_KEYS)}")
    missing = _REQUIRED_KEYS - set(raw)
    if missing:
        raise RegistryError(f"{where} is missing {sorted(missing)}")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise RegistryError(f"{where}: 'name' must be a non-empty string, got {name!r}")
    where = f"{where} ({name})"
    generic = raw.get("generic", False)
    if not isinstance(generic, bool):
        raise RegistryError(f"{where}: 'generic' must be true or false, got {generic!r}")
    entry = {
        "name": name.strip(),
        "aliases": _string_list(where, raw, "aliases"),
        "codes": _string_list(where, raw, "codes"),
        "generic": generic,
        "credit_patterns": _string_list(where, raw, "credit_patterns"),
    }
    for pattern in entry["credit_patterns"]:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RegistryError(f"{where}: credit pattern {pattern!r} is not a valid regex: {exc}") from exc
    return entry


def _string_list(where: str, raw: dict, key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegistryError(f"{where}: '{key}' must be a list of non-empty strings, got {value!r}")
    return [v.strip() for v in value]


def _check_unique_names(entries: list[dict]) -> None:
    owner: dict[str, str] = {}
    seen: set[str] = set()
    for entry in entries:
        canonical = entry["name"]
        if canonical in seen:
            raise RegistryError(f"agency registry lists {canonical!r} twice")
        seen.add(canonical)
        for spelling in {canonical, *entry["aliases"], *entry["codes"]}:
            key = _alias_key(spelling)
            if owner.get(key, canonical) != canonical:
                raise RegistryError(
                    f"agency registry: {spelling!r} is claimed by both {owner[key]!r} and {canonical!r}")
            owner[key] = canonical


def _alias_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class AgencyRegistry:
    """Compiled view of the registry data: name lookup and agency-name regexes."""

    def __init__(self, entries: list[dict]):
        self._entries = entries
        self._aliases: dict[str, str] = {}
        self._codes: dict[str, str] = {}
        self._generic = {e["name"] for e in entries if e["generic"]}
        for entry in entries:
            self._index_entry(entry)
        self.name_pattern = self._build_name_pattern()
        self.name_re = re.compile(self.name_pattern)
        self.credit_patterns = [(re.compile(p, re.I), e["name"]) for e in entries for p in e["credit_patterns"]]
        self._compiled: dict[tuple[str, int], re.Pattern] = {}

    @classmethod
    def from_data(cls, data: list[dict]) -> "AgencyRegistry":
        """Build from plain registry data (as returned by load_registry_data), validating it again."""
        return cls(validate_registry_data(data))

    @classmethod
    def default(cls) -> "AgencyRegistry":
        """Build from the packaged agencies.yaml."""
        return cls.from_data(load_registry_data())

    def _index_entry(self, entry: dict) -> None:
        canonical = entry["name"]
        for code in entry["codes"]:
            # Codes are credits when written as registered or in capitals ("dpa", "DPA"), never in other cases.
            self._codes[code] = canonical
            self._codes[code.upper()] = canonical
        for alias in entry["aliases"]:
            self._aliases[_alias_key(alias)] = canonical
        if canonical not in entry["codes"]:
            self._aliases[_alias_key(canonical)] = canonical

    def _build_name_pattern(self) -> str:
        aliases = sorted({a for a in self._aliases}, key=len, reverse=True)
        codes = sorted(self._codes, key=len, reverse=True)
        alias_alt = "|".join(r"\s+".join(re.escape(w) for w in a.split()) for a in aliases)
        code_alt = "|".join(re.escape(c) for c in codes)
        parts = [f"(?i:{alias_alt})"] if alias_alt else []
        if code_alt:
            parts.append(f"(?-i:{code_alt})")
        # A hyphen followed by a letter continues the word ("AP-NORC"), so it is not a name boundary.
        return rf"(?<!\w)(?:{'|'.join(parts)})(?!\w|-\w)"

    @property
    def names(self) -> list[str]:
        """Canonical names in registry order."""
        return [e["name"] for e in self._entries]

    def canonical(self, name: str) -> str | None:
        """Map a name, alias or code as written on a page to its canonical name, or None."""
        if not isinstance(name, str):
            return None
        text = " ".join(name.split())
        if text in self._codes:
            return self._codes[text]
        return self._aliases.get(text.casefold())

    def is_generic(self, canonical: str | None) -> bool:
        """True for the pseudo-agency 'Agencies'."""
        return canonical in self._generic

    def find(self, text: str) -> Iterator[tuple[str, re.Match]]:
        """Yield (canonical, match) for every agency name written in text."""
        for match in self.name_re.finditer(text or ""):
            canonical = self.canonical(match.group(0))
            if canonical is not None:
                yield canonical, match

    def compile(self, template: str, flags: int = 0) -> re.Pattern:
        """Compile a rule template once; '{name}' stands for any agency name."""
        key = (template, flags)
        if key not in self._compiled:
            self._compiled[key] = re.compile(template.replace("{name}", f"(?:{self.name_pattern})"), flags)
        return self._compiled[key]
