"""Stable identifiers: the same parts give the same id on every worker and run."""
from __future__ import annotations

import hashlib


def stable_id(*parts: str | None) -> str:
    """A short, stable identifier: the same parts give the same id on every worker and run."""
    joined = "\x1f".join(p or "" for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]
