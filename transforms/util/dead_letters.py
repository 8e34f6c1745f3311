"""Dead-letter rows: what failed, where and why, bounded and valid whatever the payload (no Beam here)."""
from __future__ import annotations

import hashlib

from schemas.types import DeadLetter
from transforms.util.ids import stable_id
from transforms.util.times import iso, utc_now

# The one output tag every stage's failures leave on.
DEAD = "dead_letters"


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
        message=_clean(message if isinstance(message, str) else safe_repr(message), max_message) or "",
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


def safe_repr(obj) -> str:
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
    return safe_repr(payload)[:_MAX_REPR_CHARS].encode("utf-8", "replace")
