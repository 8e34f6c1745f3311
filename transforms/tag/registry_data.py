"""Loading and validating the agency registry YAML into plain, picklable dicts (see docs/agencies.md)."""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from schemas.errors import RegistryError, yaml_problem

_LIST_KEYS = ("aliases", "codes", "weak_codes", "credit_patterns", "dateline_patterns", "domains", "languages")
_ENTRY_KEYS = frozenset({"name", "generic", "country", *_LIST_KEYS})
_REQUIRED_KEYS = frozenset({"name"})
_PATTERN_KEYS = ("credit_patterns", "dateline_patterns")
# A bare host name: lower-case labels of letters, digits and inner hyphens, at least one dot.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
# The C loader reads the registry about ten times faster where libyaml is present.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
# A BCP 47 tag as far as the registry needs one: "de", "zh-Hans", "pt-BR", "sr-Latn".
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


def load_registry_data(path: str | None = None) -> list[dict]:
    """Read the registry YAML (the packaged file by default) and return validated plain data."""
    text = _read_registry_text(path)
    name = path or "agencies.yaml"
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        # Word the mistake as the pure-Python parser does, like a mistake in the feeds file.
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
    _check_unique_domains(entries)
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
    entry = {"name": name.strip(), "generic": generic, "country": _country(where, raw.get("country"))}
    entry.update((key, _string_list(where, raw, key)) for key in _LIST_KEYS)
    for key in _PATTERN_KEYS:
        for pattern in entry[key]:
            try:
                re.compile(pattern)
            except re.error as exc:
                label = key[:-1].replace("_", " ")
                raise RegistryError(f"{where}: {label} {pattern!r} is not a valid regex: {exc}") from None
    entry["domains"] = [_domain(where, d) for d in entry["domains"]]
    for language in entry["languages"]:
        if not _LANGUAGE_RE.match(language):
            raise RegistryError(f"{where}: language {language!r} is not a language tag like 'de', 'zh-Hans', 'pt-BR'")
    both = set(entry["codes"]) & set(entry["weak_codes"])
    if both:
        raise RegistryError(f"{where}: {sorted(both)} listed both under 'codes' and under 'weak_codes'; pick one")
    return entry


def _string_list(where: str, raw: dict, key: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegistryError(f"{where}: '{key}' must be a list of non-empty strings, got {value!r}")
    return [v.strip() for v in value]


def _country(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _COUNTRY_RE.match(value):
        raise RegistryError(f"{where}: 'country' must be an ISO 3166-1 alpha-2 code like 'DE', got {value!r}")
    return value


def _domain(where: str, value: str) -> str:
    domain = value.lower().rstrip(".")
    if domain.startswith("www."):
        raise RegistryError(f"{where}: domain {value!r} must not start with 'www.' "
                            f"(write {domain[4:]!r}; subdomains and www. are matched anyway)")
    if not _DOMAIN_RE.match(domain):
        raise RegistryError(f"{where}: domain {value!r} must be a bare host name like 'apnews.com' "
                            "(no scheme, path or port)")
    return domain


def spelling_key(text: str) -> str:
    """How two spellings are compared for clashes: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _check_unique_names(entries: list[dict]) -> None:
    owner: dict[str, str] = {}
    seen: set[str] = set()
    for entry in entries:
        canonical = entry["name"]
        if canonical in seen:
            raise RegistryError(f"agency registry lists {canonical!r} twice")
        seen.add(canonical)
        for spelling in {canonical, *entry["aliases"], *entry["codes"], *entry["weak_codes"]}:
            key = spelling_key(spelling)
            if owner.get(key, canonical) != canonical:
                raise RegistryError(
                    f"agency registry: {spelling!r} is claimed by both {owner[key]!r} and {canonical!r}")
            owner[key] = canonical


def _check_unique_domains(entries: list[dict]) -> None:
    owner: dict[str, str] = {}
    for entry in entries:
        for domain in entry["domains"]:
            if owner.get(domain, entry["name"]) != entry["name"]:
                raise RegistryError(
                    f"agency registry: domain {domain!r} is claimed by both {owner[domain]!r} and {entry['name']!r}")
            owner[domain] = entry["name"]
