"""Dead letters in a Beam graph: the tagged output, poison elements, and guarded_pardo."""
from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue

from schemas.types import DeadLetter
from transforms.beam_common.metrics import counter
from transforms.util.dead_letters import DEAD, dead_letter, safe_repr  # noqa: F401 - DEAD re-exported


def emit_dead(stage: str, error_class: str, message: str, **kwargs):
    """Count a failure and return it as the tagged dead-letter output."""
    counter(stage, "dead_letters").inc()
    counter(stage, f"dead.{error_class}").inc()
    return pvalue.TaggedOutput(DEAD, dead_letter(stage, error_class, message, **kwargs))


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
                          key=None if url else safe_repr(member)[:4096])


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
