"""UTC instants and their one wire format, ISO-8601 with an explicit +00:00 offset (no Beam here)."""
from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc


def utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def iso(moment: dt.datetime | None, whole_seconds: bool = False) -> str | None:
    """ISO-8601 in UTC with an explicit +00:00 offset, the one wire format of instants.

    `whole_seconds` drops the microseconds: page and warehouse times are known to the second,
    and reading them back must give the string that was written.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; attach a zone first")
    moment = moment.astimezone(UTC)
    return (moment.replace(microsecond=0) if whole_seconds else moment).isoformat()


def parse_iso(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text)


def iso_of_ts(ts: float) -> str:
    """A POSIX timestamp as the wire format."""
    return dt.datetime.fromtimestamp(ts, UTC).isoformat()


def ts_of(value) -> float | None:
    """Seconds since the epoch of an ISO string or an aware datetime (None stays None)."""
    if value is None:
        return None
    moment = parse_iso(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_instant(text: str | None) -> dt.datetime | None:
    """An aware UTC datetime from a W3C / ISO-8601 date or instant (date only: midnight UTC; no zone: UTC)."""
    if not text:
        return None
    value = text.strip().replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if len(value) in (4, 7) and value[:4].isdigit():  # W3C's YYYY and YYYY-MM
        value = value + ("-01-01" if len(value) == 4 else "-01")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
