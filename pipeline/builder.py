"""build_pipeline: the one wiredesk graph, returned without running it."""
from __future__ import annotations

import dataclasses

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.feeds_config import ConfigError, resolve_feeds
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
    if value.startswith("bigquery:"):
        raise ConfigError("--warehouse bigquery:PROJECT.DATASET is not available in this version; "
                          "use a DuckDB file path")
    if "://" in value:
        raise ConfigError(f"--warehouse {value!r}: expected a DuckDB file path such as wiredesk.duckdb")
    return value


def build_pipeline(options: PipelineOptions, settings: Settings | None = None) -> beam.Pipeline:
    """The whole graph: ReadFeeds -> FetchArticles -> Extract -> Clean -> Tag -> Deduplicate -> WriteWarehouse."""
    from transforms import duckdb_store
    from transforms.agency_registry import load_registry_data

    wopts = options.view_as(WiredeskOptions)
    settings = settings_from_options(options, settings)
    specs = resolve_feeds(wopts.feeds or [])
    path = warehouse_path(wopts.warehouse)
    registry_data = load_registry_data(wopts.agency_registry)
    state = duckdb_store.read_state(path, settings.dedup.seed_max_articles, settings.warehouse.lock_wait_s)
    hasher = MinHasher(settings.dedup.num_perm)
    members = [stored_member(row, hasher, settings.dedup) for row in state["members"]]

    p = beam.Pipeline(options=options)
    feeds = p | "Create Feeds" >> beam.Create(specs)
    feed_states = p | "Create Feed States" >> beam.Create([(s[0], FeedState(*s)) for s in state["feed_states"]])
    known_urls = p | "Create Known Urls" >> beam.Create([state["urls"]])
    stored_ids = p | "Create Stored Ids" >> beam.Create([state["article_ids"]])
    stored_members = p | "Create Stored Members" >> beam.Create(members)
    registry = p | "Create Agency Registry" >> beam.Create([registry_data])

    read = feeds | "Read Feeds" >> ReadFeeds(settings, feed_states, known_urls)
    fetched = read["entries"] | "Fetch Articles" >> FetchArticles(settings)
    extracted = fetched["pages"] | "Extract Articles" >> ExtractArticles(settings)
    cleaned = extracted["drafts"] | "Clean Articles" >> CleanArticles(settings)
    tagged = cleaned["drafts"] | "Tag Articles" >> TagArticles(registry)
    articles = tagged["drafts"] | "Deduplicate" >> Deduplicate(settings, stored_ids, stored_members)
    dead = ((read[DEAD], fetched[DEAD], extracted[DEAD], cleaned[DEAD], tagged[DEAD])
            | "Flatten Dead Letters" >> beam.Flatten())
    _ = ({"articles": articles, "dead_letters": dead, "feed_state": read[STATE]}
         | "Write Warehouse" >> WriteWarehouse(path, settings))
    return p


def describe_settings(settings: Settings) -> dict:
    return dataclasses.asdict(settings)
