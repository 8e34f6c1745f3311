"""Pub/Sub as a streaming source: the messages `wiredesk poll --publish` sends, read back as entries.

A message is one FeedEntry as JSON (UTF-8), with attributes `entry_id` (ReadFromPubSub's
id_label on Dataflow, so a republished entry is delivered once) and `feed_url`. The DirectRunner
refuses id_label; there, and anyway, the graph drops a redelivered message (KeepFirstLink, the
story index, ON CONFLICT DO NOTHING). The publisher is pipeline/publish.py; see ARCHITECTURE.md.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
import typing

import apache_beam as beam
from apache_beam.transforms.window import TimestampedValue

from schemas.types import FeedEntry
from transforms.beam_common.dead_letters import DEAD, emit_dead, guarded_pardo
from transforms.beam_common.metrics import counter
from transforms.feeds.poll import STAGE, STATE

ID_ATTRIBUTE = "entry_id"
_TOPIC = re.compile(r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][\w.~+%-]{2,254}$")
_SUBSCRIPTION = re.compile(r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/subscriptions/[A-Za-z][\w.~+%-]{2,254}$")


def check_topic(value: str) -> str:
    from schemas.errors import ConfigError

    if not value or not _TOPIC.match(value):
        raise ConfigError(f"--publish {value!r}: expected projects/PROJECT/topics/TOPIC "
                          "(a valid project id: 6-30 lower-case letters, digits or hyphens)")
    return value


def check_subscription(value: str) -> str:
    from schemas.errors import ConfigError

    if not value or not _SUBSCRIPTION.match(value):
        raise ConfigError(f"--subscription {value!r}: expected projects/PROJECT/subscriptions/NAME "
                          "(a valid project id: 6-30 lower-case letters, digits or hyphens)")
    return value


@dataclasses.dataclass(frozen=True)
class PubSubSource:
    subscription: str
    id_label: typing.Optional[str] = None  # set on Dataflow; the DirectRunner rejects it


def encode_entry(entry: FeedEntry) -> tuple:
    """(data, attributes) of the message carrying one entry."""
    data = json.dumps(entry._asdict(), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return data, {ID_ATTRIBUTE: entry.entry_id, "feed_url": entry.feed_url}


def decode_entry(data: bytes) -> FeedEntry:
    fields = json.loads(data.decode("utf-8"))
    if not isinstance(fields, dict):
        raise ValueError("message is not a JSON object")
    unknown = set(fields) - set(FeedEntry._fields)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    for name in ("entry_id", "feed_url", "url"):
        if not isinstance(fields.get(name), str) or not fields[name]:
            raise ValueError(f"missing {name}")
    fields["authors"] = list(fields.get("authors") or [])
    fields["categories"] = list(fields.get("categories") or [])
    return FeedEntry(**{name: fields.get(name) for name in FeedEntry._fields})


class ParseEntryMessage(beam.DoFn):
    """A Pub/Sub message in; a FeedEntry out, or a dead letter (bad messages are split off first)."""

    def process(self, message):
        data = getattr(message, "data", message)
        counter(STAGE, "entries").inc()
        try:
            entry = decode_entry(data)
        except (ValueError, UnicodeDecodeError, TypeError) as err:
            counter(STAGE, "entries_invalid").inc()
            attrs = getattr(message, "attributes", None) or {}
            yield emit_dead(STAGE, "bad_message", f"{type(err).__name__}: {err}", payload=data,
                            feed_url=attrs.get("feed_url"), key=attrs.get(ID_ATTRIBUTE) or repr(data[:200]))
            return
        counter(STAGE, "new_entries").inc()
        # Stamped with its arrival: the windows after the source are micro-batches of arrival, and
        # a backlog published before the run is not "late" for them (the DirectRunner's Pub/Sub
        # watermark is the wall clock). Event time proper (published_at) is applied at Deduplicate.
        yield TimestampedValue(entry, time.time())


class ReadEntriesFromPubSub(beam.PTransform):
    """Anything of the pipeline in (the feed specs, or its root); {'entries', 'dead_letters',
    'feed_state' (empty: the poller writes it)} out."""

    def __init__(self, source: PubSubSource):
        super().__init__()
        self._source = source

    def expand(self, pvalueish):
        from apache_beam.io.gcp.pubsub import ReadFromPubSub

        root = beam.pvalue.PBegin(pvalueish.pipeline)  # a root read: the input only places it
        messages = root | "Read From PubSub" >> ReadFromPubSub(
            subscription=self._source.subscription, with_attributes=True, id_label=self._source.id_label)
        parsed = guarded_pardo(messages, "Parse Entry Messages", STAGE, ParseEntryMessage(), main="entries")
        states = root | "No Feed State" >> beam.Create([])
        return {"entries": parsed["entries"], DEAD: parsed[DEAD], STATE: states}
