"""The feeds file: a YAML list of feeds, read and checked with messages that name the entry at fault."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# FeedSpec stays importable here: running streams hold pickled FeedSpecs by this path.
from schemas.errors import ConfigError, yaml_problem  # noqa: F401 - ConfigError: the error this module raises
from schemas.types import FeedSpec  # noqa: F401

ALLOWED_KEYS = {"url", "name", "agency", "poll_interval"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$", re.I)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value, where: str = "duration") -> float:
    """Seconds from 90, '90', '90s', '5m', '1.5h'."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a duration like 90s or 5m, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(f"{where}: expected a duration like 90s or 5m, got {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "").lower() or None]
    if seconds <= 0:
        raise ConfigError(f"{where}: a duration must be positive, got {value!r}")
    return seconds


def check_feed_url(url, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"{where}: 'url' is missing or empty")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: url {url!r} must be an absolute http:// or https:// URL")
    return url.strip()


def _line_of(node_lines: dict, index: int) -> str:
    line = node_lines.get(index)
    return f"line {line}" if line else f"entry {index + 1}"


def load_feeds_file(path: str | Path) -> list:
    """Read and validate a feeds YAML file (a list, or a mapping with a 'feeds' list)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read feeds file: {err.strerror or err}") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: {yaml_problem(err)}") from None
    items_node = node
    if isinstance(data, dict) and "feeds" in data:
        data = data["feeds"]
        items_node = next((v for k, v in node.value if k.value == "feeds"), None)
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a list of feeds (each with at least a url)")
    lines = {}
    if items_node is not None and isinstance(items_node, yaml.SequenceNode):
        lines = {i: n.start_mark.line + 1 for i, n in enumerate(items_node.value)}
    specs, seen = [], {}
    for i, item in enumerate(data):
        where = f"{path}: {_line_of(lines, i)}"
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a mapping like {{url: ...}}, got {type(item).__name__}")
        unknown = sorted(set(item) - ALLOWED_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                              f"allowed: {', '.join(sorted(ALLOWED_KEYS))}")
        url = check_feed_url(item.get("url"), where)
        if url in seen:
            raise ConfigError(f"{where}: duplicate feed {url!r} (first listed at {seen[url]})")
        seen[url] = _line_of(lines, i)
        interval = item.get("poll_interval")
        specs.append(FeedSpec(
            url=url,
            name=_optional_str(item.get("name"), where, "name"),
            agency=_optional_str(item.get("agency"), where, "agency"),
            poll_interval_s=parse_duration(interval, f"{where}: poll_interval") if interval is not None else None,
        ))
    return specs


def _optional_str(value, where: str, key: str):
    if value is None:
        return None
    if not isinstance(value, (str, int, float)):
        raise ConfigError(f"{where}: '{key}' must be text")
    return str(value)


def resolve_feeds(values: list) -> list:
    """Feed specs from --feeds values: YAML files or feed URLs, in order, without duplicates."""
    specs, seen = [], set()
    for value in values:
        if re.match(r"^https?://", value, re.I):
            new = [FeedSpec(url=check_feed_url(value, "--feeds"))]
        else:
            new = load_feeds_file(value)
        for spec in new:
            if spec.url not in seen:
                seen.add(spec.url)
                specs.append(spec)
    if not specs:
        raise ConfigError("--feeds: no feeds given")
    return specs
