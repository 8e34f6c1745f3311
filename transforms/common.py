"""Small pieces every stage shares: dead-letter rows, counters, stable hashes and UTC times."""
from __future__ import annotations

import hashlib

import apache_beam as beam
from apache_beam import pvalue

from pipeline import progress
from schemas.types import DeadLetter
from transforms.times import iso, parse_iso, utc_now  # noqa: F401 - re-exported for the stages

DEAD = "dead_letters"
NAMESPACE = "wiredesk"


def stable_id(*parts: str | None) -> str:
    """A short, stable identifier: the same parts give the same id on every worker and run."""
    joined = "\x1f".join(p or "" for p in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


class _Counter:
    """A Beam counter that also feeds the live progress tally (pipeline.progress) of this process."""

    def __init__(self, stage: str, name: str):
        self._beam = beam.metrics.Metrics.counter(f"{NAMESPACE}.{stage}", name)
        self._key = f"{stage}.{name}"

    def inc(self, n: int = 1) -> None:
        self._beam.inc(n)
        progress.record(self._key, n)

    def dec(self, n: int = 1) -> None:
        self.inc(-n)


_COUNTERS: dict = {}


def counter(stage: str, name: str) -> _Counter:
    # Beam's counter delegates to the metrics container current at inc() time, so one object per name
    # can be shared; caching it keeps the progress mirror cheaper than building a new counter per call.
    found = _COUNTERS.get((stage, name))
    if found is None:
        found = _COUNTERS.setdefault((stage, name), _Counter(stage, name))
    return found


def dead_letter(stage: str, error_class: str, message: str, *, url: str | None = None,
                feed_url: str | None = None, payload=None, attempt: int = 1, key: str | None = None,
                max_excerpt: int = 2000, max_message: int = 2000) -> DeadLetter:
    """A dead-letter row; huge or odd payloads are hashed and cut, never stored whole.

    Never raises: a payload that cannot be repr'd, text with lone surrogates or NULs, and
    megabyte messages all become a bounded, valid row, so a dead letter cannot fail in turn.
    ``key`` tells apart failures that share stage, feed, url and reason (two link-less entries
    of one feed); without it the id is the same as it always was.
    """
    raw = _payload_bytes(payload)
    excerpt = _clean(raw[: max_excerpt * 4].decode("utf-8", "replace"), max_excerpt) if raw else None
    url, feed_url = _clean(url, _MAX_URL_CHARS), _clean(feed_url, _MAX_URL_CHARS)
    parts = (stage, feed_url, url, error_class) + ((_clean(key, 4096),) if key is not None else ())
    return DeadLetter(
        dead_letter_id=stable_id(*parts),
        stage=stage,
        url=url,
        feed_url=feed_url,
        error_class=_clean(error_class, 200),
        message=_clean(message if isinstance(message, str) else _safe_repr(message), max_message) or "",
        payload_sha256=hashlib.sha256(raw).hexdigest() if raw else None,
        payload_excerpt=excerpt,
        attempt=attempt,
        failed_at=iso(utc_now()),
    )


# Dead-letter urls are capped too: the link that failed for being absurdly long must still fit a row.
_MAX_URL_CHARS = 4096
_MAX_REPR_CHARS = 1_000_000


def _clean(text, cap: int):
    """Valid UTF-8 text without NULs, at most cap characters; None stays None."""
    if text is None:
        return None
    text = str(text)[:cap]
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _safe_repr(obj) -> str:
    try:
        text = repr(obj)
    except Exception as err:  # a poison element may be poison to repr() too
        return f"<unrepresentable {type(obj).__name__}: {type(err).__name__}>"
    return text if isinstance(text, str) else f"<unrepresentable {type(obj).__name__}>"


def _payload_bytes(payload) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8", "replace")
    body = getattr(payload, "body", None)  # a Page: the bytes that failed are the useful payload
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return _safe_repr(payload)[:_MAX_REPR_CHARS].encode("utf-8", "replace")


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


def _poison_to_dead(bad, stage: str):
    """An element that made a DoFn raise, as dead letters; the stream moves on.

    A batch (key, [entries...]) gives one dead letter per entry, so conservation still holds.
    """
    element, (exc_type, exc_text, trace) = bad
    detail = "".join(trace[-3:]) if isinstance(trace, (list, tuple)) else str(trace)
    message = f"{exc_type}: {exc_text}\n{detail}"
    members = _batch_members(element)
    for member in members if members is not None else (element,):
        url, feed_url = _locate(member)
        counter(stage, "dead_letters").inc()
        counter(stage, "dead.unexpected_error").inc()
        yield dead_letter(stage, "unexpected_error", message, url=url, feed_url=feed_url, payload=member,
                          key=None if url else _safe_repr(member)[:4096])


def _batch_members(element):
    """The entries of a (key, iterable of entries) batch, or None for a single element."""
    try:
        if isinstance(element, tuple) and len(element) == 2 and not hasattr(element, "_fields") \
                and not isinstance(element[1], (str, bytes)) and hasattr(element[1], "__iter__"):
            members = list(element[1])
            if members and all(_locate(m) != (None, None) for m in members):
                return members
    except Exception:
        return None
    return None


def _locate(element):
    """Best-effort url and feed_url of any element type wiredesk moves."""
    try:
        for path in (("entry",), ("article",), ()):
            obj = element
            for attr in path:
                obj = getattr(obj, attr, None)
            if obj is not None and hasattr(obj, "url"):
                url, feed_url = getattr(obj, "url", None), getattr(obj, "feed_url", None)
                return (url if isinstance(url, str) else None), (feed_url if isinstance(feed_url, str) else None)
    except Exception:
        pass
    return None, None


def guarded_pardo(pcoll, label: str, stage: str, dofn, *args, main: str = "main", extra=(), **kwargs):
    """ParDo whose own dead letters and any unexpected exception both land in one dead-letter output.

    Returns {main: ..., DEAD: ..., each extra tag: ...}. Good and bad are split before anything
    downstream sees the element, so one poison element can never stall a stream.
    """
    out = pcoll | label >> beam.ParDo(dofn, *args, **kwargs).with_outputs(DEAD, *extra, main=main) \
        .with_exception_handling(main_tag=main, dead_letter_tag=POISON)
    poison = out[POISON] | f"{label} Poison" >> beam.FlatMap(_poison_to_dead, stage).with_output_types(DeadLetter)
    result = {main: out[main], DEAD: (out[DEAD], poison) | f"{label} Dead Letters" >> beam.Flatten()}
    result.update({tag: out[tag] for tag in extra})
    return result
