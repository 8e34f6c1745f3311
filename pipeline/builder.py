"""build_pipeline: the one wiredesk graph, returned without running it."""
from __future__ import annotations

import dataclasses
import uuid

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline.feeds_config import ConfigError, parse_duration, resolve_feeds
from pipeline.options import WiredeskOptions
from pipeline.settings import Settings
from schemas.types import FeedState
from transforms.clean_articles import CleanArticles
from transforms.common import DEAD
from transforms.deduplicate import Deduplicate, stored_member
from transforms.extract_articles import ExtractArticles
from transforms.fetch_articles import FetchArticles
from transforms.minhash import MinHasher
from transforms.read_feeds import STATE, ReadFeeds
from transforms.tag_articles import TagArticles
from transforms.write_warehouse import WriteWarehouse


def settings_from_options(options: PipelineOptions, base: Settings | None = None) -> Settings:
    """The config object with the command line's overrides applied."""
    wopts = options.view_as(WiredeskOptions)
    settings = base or Settings()
    changes = {"proxy": wopts.proxy, "allow_private_networks": bool(wopts.allow_private_networks),
               "respect_robots": not wopts.ignore_robots}
    if wopts.min_host_gap is not None:
        changes["min_host_gap_s"] = wopts.min_host_gap
    return settings.with_fetch(**changes)


def warehouse_path(value: str) -> str:
    """The DuckDB file named by --warehouse, or a ConfigError saying what is accepted."""
    if not value:
        raise ConfigError("--warehouse: empty value; give a path like wiredesk.duckdb")
    if "://" in value:
        raise ConfigError(f"--warehouse {value!r}: expected a DuckDB file path such as wiredesk.duckdb "
                          "or bigquery:PROJECT.DATASET")
    return value


def build_pipeline(options: PipelineOptions, settings: Settings | None = None) -> beam.Pipeline:
    """The whole graph: ReadFeeds -> FetchArticles -> Extract -> Clean -> Tag -> Deduplicate -> WriteWarehouse."""
    from transforms import duckdb_store
    from transforms.agency_registry import load_registry_data

    wopts = options.view_as(WiredeskOptions)
    settings = settings_from_options(options, settings)
    streaming = bool(options.view_as(StandardOptions).streaming)
    if wopts.source == "pubsub" and not streaming:
        raise ConfigError("--source pubsub needs --streaming")
    specs = resolve_feeds(wopts.feeds or []) if wopts.source == "poll" else []
    registry_data = load_registry_data(wopts.agency_registry)
    if (wopts.warehouse or "").startswith("bigquery:"):
        from transforms.write_bigquery import bigquery_sink

        sink, state = bigquery_sink(options, settings)
    else:
        path = warehouse_path(wopts.warehouse)
        state = duckdb_store.read_state(path, settings.dedup.seed_max_articles, settings.warehouse.lock_wait_s)
        # Sources that stream on the local runner get the writer's processing-time flush too.
        sink = WriteWarehouse(path, settings, streaming=streaming,
                              timed_flush=streaming and (wopts.source == "pubsub" or streams_live(options)))
    hasher = MinHasher(settings.dedup.num_perm)
    members = [stored_member(row, hasher, settings.dedup) for row in state["members"]]

    p = beam.Pipeline(options=options)
    feeds = p | "Create Feeds" >> beam.Create(specs)
    feed_states = p | "Create Feed States" >> beam.Create([(s[0], FeedState(*s)) for s in state["feed_states"]])
    known_urls = p | "Create Known Urls" >> beam.Create([state["urls"]])
    stored_ids = p | "Create Stored Ids" >> beam.Create([state["article_ids"]])
    stored_members = p | "Create Stored Members" >> beam.Create(members)
    registry = p | "Create Agency Registry" >> beam.Create([registry_data])

    source = stream_source(options, settings, specs, state["feed_states"]) if streaming else None
    read = feeds | "Read Feeds" >> ReadFeeds(settings, feed_states, known_urls, source=source)
    fetched = read["entries"] | "Fetch Articles" >> FetchArticles(settings)
    extracted = fetched["pages"] | "Extract Articles" >> ExtractArticles(settings)
    cleaned = extracted["drafts"] | "Clean Articles" >> CleanArticles(settings)
    tagged = cleaned["drafts"] | "Tag Articles" >> TagArticles(registry)
    articles = tagged["drafts"] | "Deduplicate" >> Deduplicate(settings, stored_ids, stored_members,
                                                               streaming=streaming)
    dead = ((read[DEAD], fetched[DEAD], extracted[DEAD], cleaned[DEAD], tagged[DEAD])
            | "Flatten Dead Letters" >> beam.Flatten())
    _ = ({"articles": articles, "dead_letters": dead, "feed_state": read[STATE]}
         | "Write Warehouse" >> sink)
    return p


def stream_source(options: PipelineOptions, settings: Settings, specs: list, stored_states: list):
    """What a --streaming run reads: a PollPlan (poll the feeds) or a PubSubSource."""
    from transforms.poll_feeds import PollPlan

    wopts = options.view_as(WiredeskOptions)
    if wopts.source == "pubsub":
        from pipeline.pubsub import PubSubSource, check_subscription

        runner = (options.view_as(StandardOptions).runner or "").lower()
        # Dataflow drops redelivered messages by id_label; the DirectRunner refuses id_label.
        return PubSubSource(check_subscription(wopts.subscription or ""),
                            id_label="entry_id" if "dataflow" in runner else None)
    if wopts.max_polls is not None and wopts.max_polls < 1:
        raise ConfigError(f"--max-polls: expected a positive number, got {wopts.max_polls}")
    plan = PollPlan(
        run_id=uuid.uuid4().hex,
        specs=tuple(specs),
        states=tuple(FeedState(*s) for s in stored_states),
        poll_interval_s=parse_duration(wopts.poll_interval, "--poll-interval") if wopts.poll_interval else None,
        duration_s=parse_duration(wopts.duration, "--duration") if wopts.duration else None,
        max_polls=wopts.max_polls,
    )
    if streams_live(options):
        from transforms import live_poll

        plan = dataclasses.replace(plan, live_endpoint=live_poll.serve(settings, plan))
    return plan


def streams_live(options: PipelineOptions) -> bool:
    """True when a polling stream runs on Beam's local streaming runner (see transforms/live_poll.py).

    The DirectRunner hands a pipeline with a TestStream to the BundleBasedDirectRunner. Every other
    runner (Dataflow, or the FnApiRunner named on purpose) runs the polling SDF instead.
    """
    runner = options.view_as(StandardOptions).runner
    name = (runner if isinstance(runner, str) else type(runner).__name__ if runner else "").lower()
    return (bool(options.view_as(StandardOptions).streaming)
            and options.view_as(WiredeskOptions).source == "poll"
            and name in ("", "directrunner", "bundlebaseddirectrunner"))


def describe_settings(settings: Settings) -> dict:
    return dataclasses.asdict(settings)
