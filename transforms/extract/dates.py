"""Publication-date parsing and selection: every value becomes an aware UTC datetime with a recorded source."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# Sources in the order that breaks ties between equal instants: the feed is what the outlet announced.
SOURCE_PRIORITY = ('feed', 'jsonld', 'meta', 'url', 'text')
# Clock skew between a publisher and us; a timestamp a few minutes ahead is a clock, not a forecast.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Anything before the web is a parsing accident (e.g. '0001-01-01' placeholders).
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=timezone.utc)

_NOCOLON_OFFSET_RE = re.compile(r'([+-]\d{2})(\d{2})$')
_SPACE_DATETIME_RE = re.compile(r'^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(.*)$')
_URL_DATE_RE = re.compile(r'/((?:19|20)\d{2})[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|$|[^\d])')


@dataclass(frozen=True)
class DateCandidate:
    """One publication time found on a page, with where it came from and whether it carried a zone."""

    source: str
    value: datetime  # always aware, in UTC
    aware: bool  # False when the text had no zone and UTC was assumed
    precise: bool = True  # False for date-only values (URL paths, visible text)


def parse_datetime(text: str | datetime | None) -> tuple[datetime, bool] | None:
    """Parse ISO-8601 (with 'Z', '+0530', space separator, fractions) or RFC 822; return (UTC value, had_zone)."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return _to_utc(text)
    text = text.strip()
    if not text:
        return None
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_rfc822(text)
    if parsed is None:
        return None
    return _to_utc(parsed)


def _parse_iso(text: str) -> datetime | None:
    candidate = text.replace('Z', '+00:00').replace('z', '+00:00')
    match = _SPACE_DATETIME_RE.match(candidate)
    if match:
        candidate = f'{match.group(1)}T{match.group(2)}{match.group(3).strip()}'
    # Python 3.10 does not accept '+0530'; normalise it to '+05:30'.
    candidate = _NOCOLON_OFFSET_RE.sub(r'\1:\2', candidate) if 'T' in candidate else candidate
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _to_utc(value: datetime) -> tuple[datetime, bool]:
    if value.tzinfo is None or value.utcoffset() is None:
        # No zone: assume UTC but remember the guess, the caller ranks it lower.
        return value.replace(tzinfo=timezone.utc), False
    return value.astimezone(timezone.utc), True


def candidate(source: str, text: str | datetime | None) -> DateCandidate | None:
    """Build a candidate from a raw value; None when it does not parse."""
    parsed = parse_datetime(text)
    if parsed is None:
        return None
    value, aware = parsed
    # RFC 822 '-0000' and date-only ISO strings carry no time of day worth trusting as precise.
    precise = not (isinstance(text, str) and len(text.strip()) <= 10)
    return DateCandidate(source, value, aware, precise)


def date_from_url(url: str | None) -> DateCandidate | None:
    """A /YYYY/MM/DD/ path segment gives the day (midnight UTC, imprecise)."""
    match = _URL_DATE_RE.search(url or '')
    if not match:
        return None
    try:
        value = datetime(int(match.group(1)), int(match.group(2)), int(match.group(3)), tzinfo=timezone.utc)
    except ValueError:
        return None
    return DateCandidate('url', value, aware=False, precise=False)


def is_plausible(cand: DateCandidate, now: datetime) -> bool:
    """Reject future times (beyond clock skew) and pre-web placeholders."""
    return EARLIEST_PLAUSIBLE <= cand.value <= now + FUTURE_TOLERANCE


def choose_published(candidates, now: datetime | None = None) -> DateCandidate | None:
    """Pick the earliest trustworthy candidate: zoned timestamps first, then naive ones, then day-only ones.

    Within a tier the earliest instant wins, because later values are usually modification or
    re-publication times; equal instants go to the more authoritative source.
    """
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    usable = [c for c in candidates if c is not None and is_plausible(c, now)]
    for tier in (_is_zoned, _is_naive, _is_day_only):
        members = [c for c in usable if tier(c)]
        if members:
            return min(members, key=lambda c: (c.value, SOURCE_PRIORITY.index(c.source)))
    return None


def _is_zoned(cand: DateCandidate) -> bool:
    return cand.precise and cand.aware


def _is_naive(cand: DateCandidate) -> bool:
    return cand.precise and not cand.aware


def _is_day_only(cand: DateCandidate) -> bool:
    return not cand.precise
