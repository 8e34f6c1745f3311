"""`wiredesk poll --publish`: poll the feeds like the streaming source and publish new entries.

A plain loop on the run's PollSchedule over a FeedPoller; each new entry goes to the topic as
one message (transforms/feeds/beam_pubsub.py has the format and the reading side). Feed state is
read from and written back to the warehouse, so a restart resumes politely. See ARCHITECTURE.md.
"""
from __future__ import annotations

import time

from schemas.errors import ConfigError
from transforms.beam_common.metrics import count_all
from transforms.feeds.beam_pubsub import encode_entry
from transforms.feeds.poll import STAGE, STATE
from transforms.feeds.poller import FeedPoller
from transforms.feeds.schedule import PollSchedule
from transforms.feeds.urls import canonical_url
from transforms.util.dead_letters import DEAD
from transforms.warehouse import duckdb_store
from transforms.warehouse.duckdb_lookup import DuckDBLookup
from transforms.warehouse.upgrade import upgrade_duckdb


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
    """Poll until the schedule ends; returns totals. With a warehouse, feed state is read from and
    written back to its feed_state table, and entries already stored as articles are not published."""
    unsupported = [s.url for s in specs if s.kind in ("endpoint", "folder")]
    if unsupported:
        # Pub/Sub messages carry feed entries; agency items travel only inside a polling run.
        raise ConfigError(f"wiredesk poll --publish reads feeds and sitemaps only; run agency endpoints and "
                          f"drop folders with `wiredesk run` instead: {', '.join(unsupported)}")
    lookup, states = None, []
    if warehouse:
        upgrade_duckdb(warehouse, settings)
        lookup = DuckDBLookup(warehouse, settings)
        states = list(lookup.feed_states(s.url for s in specs).values())
    publisher = Publisher(topic)
    poller = FeedPoller(settings, specs, states, poll_interval_s, tally=lambda counts: count_all(STAGE, counts))
    schedule = PollSchedule(time.time(), duration_s, max_polls, settings.stream.max_sleep_s)
    totals = {"polls": 0, "published": 0, "unchanged": 0, "dead_letters": 0, "known": 0}
    try:
        while True:
            now = time.time()
            if schedule.finished(poller.tracks, now):
                break
            due = schedule.due(poller.tracks, now)
            if not due:
                sleep(max(0.01, schedule.wake(now, poller.tracks) - now))
                continue
            rows = {STATE: [], DEAD: []}
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
                        rows[STATE].append(value)
                        totals["unchanged"] += value.last_status == 304
                    else:
                        rows[DEAD].append(value)
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
