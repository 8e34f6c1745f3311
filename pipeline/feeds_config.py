"""The feeds file: a YAML list of sources, read and checked with messages that name the entry at fault.

An entry is a feed (`url`), a sitemap (`url` + `type: sitemap`), a site whose sitemaps robots.txt
lists (`site`), an agency endpoint (`url` + `format`, optional `headers` from environment
variables) or a drop folder (`folder` + `format`). docs/sources.md describes them.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# FeedSpec stays importable here: running streams hold pickled FeedSpecs by this path.
from schemas.errors import ConfigError, yaml_problem  # noqa: F401 - ConfigError: the error this module raises
from schemas.types import DELIVERY_FORMATS, FeedSpec  # noqa: F401

ALLOWED_KEYS = {"url", "site", "folder", "type", "format", "headers", "name", "agency", "poll_interval"}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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
        kind, url, fmt, headers = _source(item, where, path.parent)
        if url in seen:
            raise ConfigError(f"{where}: duplicate feed {url!r} (first listed at {seen[url]})")
        seen[url] = _line_of(lines, i)
        interval = item.get("poll_interval")
        specs.append(FeedSpec(
            url=url,
            name=_optional_str(item.get("name"), where, "name"),
            agency=_optional_str(item.get("agency"), where, "agency"),
            poll_interval_s=parse_duration(interval, f"{where}: poll_interval") if interval is not None else None,
            kind=kind,
            format=fmt,
            headers=headers,
        ))
    return specs


def _source(item: dict, where: str, base: Path) -> tuple:
    """(kind, url, format, headers) of one entry: which of url / site / folder it has, and how to read it."""
    given = [k for k in ("url", "site", "folder") if k in item]
    if not given:
        raise ConfigError(f"{where}: 'url' is missing or empty (or give 'site' for a site's sitemaps, "
                          f"or 'folder' for a drop folder of agency files)")
    if len(given) > 1:
        raise ConfigError(f"{where}: give one of 'url' (a feed, sitemap or agency endpoint), 'site' (sitemaps "
                          f"found through robots.txt) or 'folder' (a drop folder of agency files), not "
                          f"{' and '.join(given)}")
    kind_type, fmt = item.get("type"), item.get("format")
    if kind_type is not None and kind_type not in ("feed", "sitemap"):
        raise ConfigError(f"{where}: type {kind_type!r} is not known; use type: feed or type: sitemap "
                          f"(agency endpoints take format: {' | '.join(DELIVERY_FORMATS)})")
    if fmt is not None and fmt not in DELIVERY_FORMATS:
        raise ConfigError(f"{where}: format {fmt!r} is not known; use one of {', '.join(DELIVERY_FORMATS)}")
    if kind_type is not None and (fmt is not None or "url" not in item):
        raise ConfigError(f"{where}: 'type' goes with 'url' only, and not with 'format'")
    if "headers" in item and not ("url" in item and fmt is not None):
        raise ConfigError(f"{where}: 'headers' are for agency endpoints only ('url' with 'format')")
    if "site" in item:
        if fmt is not None:
            raise ConfigError(f"{where}: a 'site' is read through its sitemaps and takes no 'format'")
        parts = urlsplit(item["site"].strip() if isinstance(item["site"], str) else "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{where}: site {item['site']!r} must be an absolute http:// or https:// URL")
        return "site", f"{parts.scheme}://{parts.netloc}/", None, ()
    if "folder" in item:
        if fmt is None:
            raise ConfigError(f"{where}: a drop folder needs 'format': one of {', '.join(DELIVERY_FORMATS)}")
        return "folder", _folder(item["folder"], where, base), fmt, ()
    url = check_feed_url(item.get("url"), where)
    if fmt is not None:
        return "endpoint", url, fmt, _headers(item.get("headers"), where)
    return kind_type or "feed", url, None, ()


def _folder(value, where: str, base: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: 'folder' must be a directory path or a gs://bucket/prefix")
    value = value.strip()
    if value.startswith("gs://"):
        if len(value) <= len("gs://") or value[5] == "/":
            raise ConfigError(f"{where}: folder {value!r} must name a bucket: gs://bucket/prefix")
        return value.rstrip("/")
    if "://" in value:
        raise ConfigError(f"{where}: folder {value!r}: only local directories and gs:// buckets are watched")
    folder = (base / Path(value).expanduser()).resolve()
    if not folder.is_dir():
        raise ConfigError(f"{where}: folder {str(folder)!r} is not a directory")
    return str(folder)


def _headers(value, where: str) -> tuple:
    """(header, environment variable) pairs; a literal value is refused, so no secret sits in the file."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: 'headers' must be a mapping like {{X-Api-Key: {{env: AP_API_KEY}}}}")
    out = []
    for header, spec in value.items():
        if not isinstance(header, str) or not _HEADER_NAME.match(header):
            raise ConfigError(f"{where}: {header!r} is not a valid HTTP header name")
        if not (isinstance(spec, dict) and set(spec) == {"env"}):
            raise ConfigError(f"{where}: header {header}: give its value as {{env: VARIABLE}}; values are read "
                              f"from the environment so that no key is written in the feeds file")
        variable = spec["env"]
        if not isinstance(variable, str) or not _ENV_NAME.match(variable):
            raise ConfigError(f"{where}: header {header}: {variable!r} is not an environment variable name")
        out.append((header, variable))
    return tuple(out)


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
