"""Pub/Sub as the streaming source: `wiredesk poll --publish` on one side, `run --source pubsub` on the other.

A message is one FeedEntry as JSON (UTF-8), with attributes `entry_id` (used as ReadFromPubSub's
id_label on Dataflow, so a republished entry is delivered once) and `feed_url`. The DirectRunner
does not support id_label; there, and anyway, a redelivered message is dropped by the streaming
graph itself (KeepFirstLink, the story index, and the warehouse's ON CONFLICT DO NOTHING).
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

STAGE = "read_feeds"
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
    """Pipeline root in; {'entries', 'dead_letters', 'feed_state' (empty: the poller writes it)} out."""

    def __init__(self, source: PubSubSource):
        super().__init__()
        self._source = source

    def expand(self, root):
        from apache_beam.io.gcp.pubsub import ReadFromPubSub

        messages = root | "Read From PubSub" >> ReadFromPubSub(
            subscription=self._source.subscription, with_attributes=True, id_label=self._source.id_label)
        parsed = guarded_pardo(messages, "Parse Entry Messages", STAGE, ParseEntryMessage(), main="entries")
        states = root | "No Feed State" >> beam.Create([])
        return {"entries": parsed["entries"], DEAD: parsed[DEAD], "feed_state": states}


class Publisher:
    """Publishes entries to a topic (PUBSUB_EMULATOR_HOST is honoured by the client library)."""

    def __init__(self, topic: str, create: bool = False):
        from google.cloud import pubsub_v1

        self.topic = topic
        self._client = pubsub_v1.PublisherClient()
        if create:
            from google.api_core.exceptions import AlreadyExists

            try:
                self._client.create_topic(name=topic)
            except AlreadyExists:
                pass

    def publish(self, entries) -> int:
        futures = []
        for entry in entries:
            data, attrs = encode_entry(entry)
            futures.append(self._client.publish(self.topic, data, **attrs))
        for future in futures:
            future.result(timeout=60)
        return len(futures)


def poll_and_publish(settings, specs, topic: str, *, warehouse: str | None = None, poll_interval_s=None,
                     max_polls: int | None = None, duration_s: float | None = None, sleep=time.sleep) -> dict:
    """`wiredesk poll --publish`: poll feeds like the streaming source and publish new entries.

    Feed state is read from and written back to the warehouse's feed_state table (if given), so
    the poller resumes politely; entries whose link is already an article there are not published.
    """
    from transforms.warehouse import duckdb_store
    from transforms.warehouse.duckdb_lookup import DuckDBLookup
    from transforms.feeds.beam_poll import FeedPoller, stop_requested
    from transforms.feeds.urls import canonical_url
    from transforms.warehouse.upgrade import upgrade_duckdb

    lookup, states = None, []
    if warehouse:
        upgrade_duckdb(warehouse, settings)
        lookup = DuckDBLookup(warehouse, settings)
        states = list(lookup.feed_states(s.url for s in specs).values())
    publisher = Publisher(topic)
    poller = FeedPoller(settings, specs, states, poll_interval_s)
    started = time.time()
    totals = {"polls": 0, "published": 0, "unchanged": 0, "dead_letters": 0, "known": 0}
    try:
        while True:
            now = time.time()
            if stop_requested() or (duration_s is not None and now >= started + duration_s):
                break
            if max_polls is not None and all(t.polls >= max_polls for t in poller.tracks.values()):
                break
            due = [u for u in poller.due(now) if max_polls is None or poller.tracks[u].polls < max_polls]
            if not due:
                pending = [u for u in poller.tracks if max_polls is None or poller.tracks[u].polls < max_polls]
                wake = min(poller.next_due(pending), now + settings.stream.max_sleep_s)
                if duration_s is not None:
                    wake = min(wake, started + duration_s)
                sleep(max(0.01, wake - now))
                continue
            rows = {"feed_state": [], "dead_letters": []}
            for url in due:
                polled = poller.poll(url, now)
                links = {v.url for k, v in polled if k == "entry"}
                links |= {canonical_url(u) for u in links}
                # One batched look-up per poll, of this poll's links only.
                known = lookup.stored_links(links) if lookup is not None and links else set()
                fresh = []
                for kind, value in polled:
                    if kind == "entry":
                        if value.url in known or canonical_url(value.url) in known:
                            totals["known"] += 1
                        else:
                            fresh.append(value)
                    elif kind == "state":
                        rows["feed_state"].append(value)
                        totals["unchanged"] += value.last_status == 304
                    else:
                        rows["dead_letters"].append(value)
                        totals["dead_letters"] += 1
                totals["polls"] += 1
                totals["published"] += publisher.publish(fresh)
            if warehouse:
                con = duckdb_store.connect(warehouse, wait_s=settings.warehouse.lock_wait_s)
                try:
                    duckdb_store.ensure_schema(con)
                    duckdb_store.write_batch(con, rows)
                finally:
                    con.close()
    finally:
        poller.close()
    return totals
