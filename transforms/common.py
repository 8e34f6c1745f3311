"""Small pieces every stage shares: dead-letter rows, counters, stable hashes and UTC times."""
from __future__ import annotations

import datetime as dt
import hashlib

import apache_beam as beam
from apache_beam import pvalue

from schemas.types import DeadLetter

DEAD = "dead_letters"
NAMESPACE = "wiredesk"

_UTC = dt.timezone.utc


def utc_now() -> dt.datetime:
    return dt.datetime.now(_UTC)


def iso(moment: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC with an explicit +00:00 offset, the one wire format of instants."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; attach a zone first")
    return moment.astimezone(_UTC).isoformat()


def parse_iso(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text)


def stable_id(*parts: str | None) -> str:
    """A short, stable identifier: the same parts give the same id on every worker and run."""
    joined = "\x1f".join(p or "" for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def counter(stage: str, name: str):
    return beam.metrics.Metrics.counter(f"{NAMESPACE}.{stage}", name)


def dead_letter(stage: str, error_class: str, message: str, *, url: str | None = None,
                feed_url: str | None = None, payload: bytes | str | None = None,
                attempt: int = 1, max_excerpt: int = 2000, max_message: int = 2000) -> DeadLetter:
    """A dead-letter row; huge or odd payloads are hashed and cut, never stored whole."""
    if isinstance(payload, str):
        raw = payload.encode("utf-8", "replace")
    elif isinstance(payload, (bytes, bytearray)):
        raw = bytes(payload)
    elif payload is None:
        raw = b""
    else:
        raw = repr(payload).encode("utf-8", "replace")
    excerpt = raw[: max_excerpt * 4].decode("utf-8", "replace")[:max_excerpt] if raw else None
    return DeadLetter(
        dead_letter_id=stable_id(stage, feed_url, url, error_class),
        stage=stage,
        url=url,
        feed_url=feed_url,
        error_class=error_class,
        message=(message or "")[:max_message],
        payload_sha256=hashlib.sha256(raw).hexdigest() if raw else None,
        payload_excerpt=excerpt,
        attempt=attempt,
        failed_at=iso(utc_now()),
    )


def emit_dead(stage: str, error_class: str, message: str, **kwargs):
    """Count a failure and return it as the tagged dead-letter output."""
    counter(stage, "dead_letters").inc()
    counter(stage, f"dead.{error_class}").inc()
    return pvalue.TaggedOutput(DEAD, dead_letter(stage, error_class, message, **kwargs))


def skipped(stage: str, reason: str) -> None:
    """Count a deliberate skip (robots.txt, already stored, repeated link)."""
    counter(stage, "skipped").inc()
    counter(stage, f"skip.{reason}").inc()


POISON = "poison"


def _poison_to_dead(bad, stage: str) -> DeadLetter:
    """An element that made a DoFn raise, as a dead letter; the stream moves on."""
    element, (exc_type, exc_text, trace) = bad
    url, feed_url = _locate(element)
    counter(stage, "dead_letters").inc()
    counter(stage, "dead.unexpected_error").inc()
    detail = "".join(trace[-3:]) if isinstance(trace, (list, tuple)) else str(trace)
    return dead_letter(stage, "unexpected_error", f"{exc_type}: {exc_text}\n{detail}", url=url,
                       feed_url=feed_url, payload=repr(element))


def _locate(element):
    """Best-effort url and feed_url of any element type wiredesk moves."""
    for path in (("entry",), ("article",), ()):
        obj = element
        for attr in path:
            obj = getattr(obj, attr, None)
        if obj is not None and hasattr(obj, "url"):
            return getattr(obj, "url", None), getattr(obj, "feed_url", None)
    return None, None


def guarded_pardo(pcoll, label: str, stage: str, dofn, *args, main: str = "main", extra=(), **kwargs):
    """ParDo whose own dead letters and any unexpected exception both land in one dead-letter output.

    Returns {main: ..., DEAD: ..., each extra tag: ...}. Good and bad are split before anything
    downstream sees the element, so one poison element can never stall a stream.
    """
    out = pcoll | label >> beam.ParDo(dofn, *args, **kwargs).with_outputs(DEAD, *extra, main=main) \
        .with_exception_handling(main_tag=main, dead_letter_tag=POISON)
    poison = out[POISON] | f"{label} Poison" >> beam.Map(_poison_to_dead, stage)
    result = {main: out[main], DEAD: (out[DEAD], poison) | f"{label} Dead Letters" >> beam.Flatten()}
    result.update({tag: out[tag] for tag in extra})
    return result
