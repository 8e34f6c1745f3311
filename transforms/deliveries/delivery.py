"""One delivery (an endpoint's answer, a dropped file) to Drafts and dead letters, whatever its format (no Beam).

Every item is one read_feeds entry: it becomes a Draft or an entry-level dead letter (counted as
entries_invalid), so a run's conservation still balances. A delivery that cannot be read at all
is one dead letter and no entry. Dead letters carry the source (endpoint URL or file path) and
the item's id, never a request header.
"""
from __future__ import annotations

from transforms.deliveries.items import DeliveryError, to_draft
from transforms.deliveries.newsml1 import parse_newsml1
from transforms.deliveries.newsml_g2 import parse_newsml_g2
from transforms.deliveries.ninjs import parse_ninjs
from transforms.feeds.outcome import count, dead

PARSERS = {"ninjs": parse_ninjs, "newsml-g2": parse_newsml_g2, "newsml": parse_newsml1}


def parse_delivery(data: bytes, fmt: str, max_items: int = 1000) -> list:
    """The AgencyItems of one delivery in a format of PARSERS; raises DeliveryError."""
    parser = PARSERS.get(fmt)
    if parser is None:
        raise DeliveryError("unknown_format", f"unknown delivery format {fmt!r}; known: {', '.join(PARSERS)}")
    return parser(data, max_items)


def read_delivery(data: bytes, fmt: str, source: str, received_at: str, settings, counts: dict,
                  agency_hint=None, location=None) -> tuple:
    """(Drafts, dead letters) of one delivery from `source` (endpoint or folder) at received_at.

    `location` (a dropped file's path) is the url of the dead letter of a delivery that cannot be read.
    """
    limits = settings.sources
    if len(data) > limits.max_delivery_bytes:
        message = f"a delivery of {len(data)} bytes, more than {limits.max_delivery_bytes}"
        return [], [dead(counts, "too_large", message, url=location, feed_url=source, payload=data)]
    try:
        items = parse_delivery(data, fmt, limits.max_items_per_delivery)
    except DeliveryError as err:
        return [], [dead(counts, err.reason, err.message, url=location, feed_url=source, payload=data)]
    drafts, dead_letters = [], []
    for index, item in enumerate(items):
        count(counts, "entries")
        count(counts, f"items.{fmt}")
        try:
            drafts.append(to_draft(item, source, received_at, settings.pipeline_version, agency_hint))
        except DeliveryError as err:
            count(counts, "entries_invalid")
            dead_letters.append(dead(counts, err.reason, err.message, url=item.uri, feed_url=source,
                                     payload=repr(item), key=f"{item.uri}\x1f{index}"))
    return drafts, dead_letters
