"""prepare: every side effect a run needs before its graph exists, gathered into RunInputs.

It reads the configuration files, brings the warehouse to the current schema (creating tables,
back-filling the story index of an older warehouse), creates BigQuery's per-run staging tables
and, for a local stream, starts the live poll service. It reads no stored articles: the graph
asks the warehouse about this run's own keys while it runs (transforms/beam_common/lookups.py), so
nothing stored travels through the launcher or the job graph. A dry run (--dry_run) touches
nothing at all: it only names what a real run would create.
"""
from __future__ import annotations

import dataclasses
import sys
import typing
import uuid

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, TestOptions

from pipeline.feeds_config import parse_duration, resolve_feeds
from pipeline.options import WiredeskOptions
from schemas.errors import ConfigError
from schemas.settings import Settings


@dataclasses.dataclass(frozen=True)
class BigQuerySink:
    """Where and how a run writes to BigQuery: decided here, wired by the builder."""

    target: typing.Any  # bigquery_store.Target
    endpoint: typing.Optional[str]  # the emulator's, or None for BigQuery itself
    temp_location: typing.Optional[str]
    staging: typing.Optional[dict]  # batch: {table: this run's staging table}


@dataclasses.dataclass(frozen=True)
class RunInputs:
    """What a graph needs from outside it; build_pipeline(options, inputs) only wires these."""

    settings: Settings
    specs: tuple
    registry_data: typing.Any
    warehouse: str
    lookup: typing.Any  # DuckDBLookup or BigQueryLookup: batched look-ups made while the graph runs
    bigquery: typing.Optional[BigQuerySink] = None
    source: typing.Any = None  # streaming: a PollPlan, a PubSubSource, or the local live stream (a PTransform)
    dry_run: bool = False
    upgrade: typing.Optional[dict] = None  # what the warehouse upgrade did, if it ran
    duration_s: typing.Optional[float] = None  # a stream's --duration, parsed once, here


def settings_from_options(options: PipelineOptions, base: Settings | None = None) -> Settings:
    """The config object with the command line's overrides applied."""
    wopts = options.view_as(WiredeskOptions)
    settings = base or Settings()
    changes = {"proxy": wopts.proxy, "allow_private_networks": bool(wopts.allow_private_networks),
               "respect_robots": not wopts.ignore_robots}
    if wopts.min_host_gap is not None:
        changes["min_host_gap_s"] = wopts.min_host_gap
    settings = settings.with_fetch(**changes)
    if wopts.feeds_per_slice is not None:
        settings = settings.replace(warehouse=dataclasses.replace(settings.warehouse,
                                                                  feeds_per_slice=max(0, wopts.feeds_per_slice)))
    return settings


def warehouse_path(value: str) -> str:
    """The DuckDB file named by --warehouse, or a ConfigError saying what is accepted."""
    if not value:
        raise ConfigError("--warehouse: empty value; give a path like wiredesk.duckdb")
    if "://" in value:
        raise ConfigError(f"--warehouse {value!r}: expected a DuckDB file path such as wiredesk.duckdb "
                          "or bigquery:PROJECT.DATASET")
    return value


def is_dry_run(options: PipelineOptions) -> bool:
    return bool(options.view_as(TestOptions).dry_run)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def prepare(options: PipelineOptions, settings: Settings | None = None, say=_say) -> RunInputs:
    """Read the configuration, prepare the warehouse and local services; returns RunInputs."""
    from transforms.tag.registry import load_registry_data
    from transforms.warehouse.bigquery_store import is_bigquery

    wopts = options.view_as(WiredeskOptions)
    settings = settings_from_options(options, settings)
    streaming = bool(options.view_as(StandardOptions).streaming)
    dry_run = is_dry_run(options)
    if wopts.source == "pubsub" and not streaming:
        raise ConfigError("--source pubsub needs --streaming")
    specs = tuple(resolve_feeds(wopts.feeds or [])) if wopts.source == "poll" else ()
    registry_data = load_registry_data(wopts.agency_registry)
    warehouse = wopts.warehouse
    upgrade, sink = None, None
    if is_bigquery(warehouse):
        sink, lookup, upgrade = _prepare_bigquery(options, settings, streaming, dry_run, say)
    else:
        from transforms.warehouse.duckdb_lookup import DuckDBLookup
        from transforms.warehouse.upgrade import upgrade_duckdb

        path = warehouse_path(warehouse)
        if not dry_run:
            upgrade = upgrade_duckdb(path, settings, say)
        lookup = DuckDBLookup(path, settings)
    duration_s = parse_duration(wopts.duration, "--duration") if streaming and wopts.duration else None
    # Drop folders are watched by fileio, except on the local live stream, which polls them itself.
    polled = specs if streams_live(options) else tuple(s for s in specs if s.kind != "folder")
    source = _stream_source(options, settings, polled, lookup, duration_s) if streaming else None
    return RunInputs(settings=settings, specs=specs, registry_data=registry_data, warehouse=warehouse,
                     lookup=lookup, bigquery=sink, source=source, dry_run=dry_run, upgrade=upgrade,
                     duration_s=duration_s)


def _prepare_bigquery(options, settings, streaming: bool, dry_run: bool, say):
    import tempfile

    from apache_beam.options.pipeline_options import GoogleCloudOptions

    from schemas.bigquery_ddl import staging_table
    from schemas.types import TABLES
    from transforms.warehouse import bigquery_store
    from transforms.warehouse.bigquery_lookup import BigQueryLookup
    from transforms.warehouse.upgrade import bigquery_version, upgrade_bigquery

    try:
        target = bigquery_store.parse_target(options.view_as(WiredeskOptions).warehouse)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    endpoint = None if dry_run else bigquery_store.emulator_endpoint()
    temp_location = None
    if endpoint is not None:
        # The emulator reads load files from this machine's disk.
        temp = options.view_as(GoogleCloudOptions).temp_location
        temp_location = temp if temp and "://" not in temp else tempfile.mkdtemp(prefix="wiredesk-bq-load-")
    staging, upgrade = None, None
    run_id = bigquery_store.new_run_id()
    if dry_run:
        staging = None if streaming else {t: staging_table(t, run_id) for t in TABLES}
    else:
        bq = bigquery_store.client(target.project, endpoint)
        try:
            before = bigquery_version(bq, target)  # before ensure_schema makes every dataset look like 1
            bigquery_store.ensure_schema(bq, target)
            upgrade = upgrade_bigquery(bq, target, settings, say, before=before)
            # Staging tables expire after 7 days by themselves if the run dies before its MERGE.
            staging = None if streaming else bigquery_store.create_staging(bq, target, run_id)
        finally:
            bq.close()
    sink = BigQuerySink(target=target, endpoint=endpoint, temp_location=temp_location, staging=staging)
    return sink, BigQueryLookup(target, settings, endpoint), upgrade


def _stream_source(options: PipelineOptions, settings: Settings, specs: tuple, lookup, duration_s=None):
    """What a --streaming run reads: a PollPlan (the polling SDF), a PubSubSource, or, on the local
    runner, the live poll stream, already serving (a source PTransform the builder uses as is)."""
    from transforms.feeds.schedule import PollPlan

    wopts = options.view_as(WiredeskOptions)
    if wopts.source == "pubsub":
        from transforms.feeds.beam_pubsub import PubSubSource, check_subscription

        runner = (options.view_as(StandardOptions).runner or "")
        runner = (runner if isinstance(runner, str) else type(runner).__name__).lower()
        # Dataflow drops redelivered messages by id_label; the DirectRunner refuses id_label.
        return PubSubSource(check_subscription(wopts.subscription or ""),
                            id_label="entry_id" if "dataflow" in runner else None)
    if wopts.max_polls is not None and wopts.max_polls < 1:
        raise ConfigError(f"--max-polls: expected a positive number, got {wopts.max_polls}")
    plan = PollPlan(
        run_id=uuid.uuid4().hex,
        specs=specs,
        poll_interval_s=parse_duration(wopts.poll_interval, "--poll-interval") if wopts.poll_interval else None,
        duration_s=duration_s,
        max_polls=wopts.max_polls,
    )
    if streams_live(options) and not is_dry_run(options):
        from pipeline import local_stream

        # The live service runs here, in this process, and resumes each feed from its stored state.
        states = tuple(lookup.feed_states(s.url for s in specs).values())
        return local_stream.ReadLivePolls(local_stream.serve(settings, dataclasses.replace(plan, states=states)))
    return plan


def streams_live(options: PipelineOptions) -> bool:
    """True when a polling stream runs on Beam's local streaming runner (see pipeline/local_stream.py).

    The DirectRunner hands a pipeline with a TestStream to the BundleBasedDirectRunner. Every other
    runner (Dataflow, or the FnApiRunner named on purpose) runs the polling SDF instead.
    """
    runner = options.view_as(StandardOptions).runner
    name = (runner if isinstance(runner, str) else type(runner).__name__ if runner else "").lower()
    return (bool(options.view_as(StandardOptions).streaming)
            and options.view_as(WiredeskOptions).source == "poll"
            and name in ("", "directrunner", "bundlebaseddirectrunner"))
