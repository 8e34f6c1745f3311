"""Agency credit from what a delivery states about itself: provider, credit line, copyright holder (no Beam).

An agency item names its provider in structured fields ("dnlprov:dpa", "reuters.com", "Agencia
EFE", "© EFE 2016 ..."). Each one that names a registry agency is evidence of kind 'provider', the
strongest kind: the delivery itself says who wrote it.
"""
from __future__ import annotations

from transforms.tag.registry import AgencyRegistry


def provider_agency(text: str, registry: AgencyRegistry) -> str | None:
    """The registry agency a provider field names: as written, as a code in capitals, as a domain, or inside it."""
    value = " ".join((text or "").split())
    if not value:
        return None
    domain = value.split("/")[0].rsplit(".", 1)[0] if "." in value and " " not in value else None
    for candidate in (value, value.upper(), domain, domain.upper() if domain else None):
        agency = registry.canonical(candidate) if candidate else None
        if agency is not None:
            return agency
    return next((agency for agency, _ in registry.find(value)), None)


def provider_evidence(providers, registry: AgencyRegistry) -> list:
    """Evidence dicts {'agency', 'kind': 'provider', 'text'}, strongest provider field first, once each."""
    out, seen = [], set()
    for text in providers or ():
        agency = provider_agency(text, registry)
        if agency is not None and (agency, text) not in seen:
            seen.add((agency, text))
            out.append({"agency": agency, "kind": "provider", "text": text})
    return out
