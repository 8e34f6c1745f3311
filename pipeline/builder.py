"""build_pipeline: the one wiredesk graph, wired from RunInputs and returned without running it.

It does no I/O. Everything from outside the graph (configuration files, the warehouse's schema,
local services) was dealt with by pipeline/prepare.py; what the graph needs to know about stored
rows it asks while it runs, through `inputs.lookup`.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline.options import WiredeskOptions
from pipeline.prepare import RunInputs, settings_from_options, streams_live, warehouse_path  # noqa: F401
from transforms.beam_common.dead_letters import DEAD
from transforms.clean.stage import CleanArticles
from transforms.dedup.beam_sign import INDEX
from transforms.dedup.stage import DeduplicateBatch, DeduplicateStreaming
from transforms.deliveries.stage import ReadDropFolders
from transforms.extract.stage import ExtractArticles
from transforms.feeds.beam_poll import PollFeeds
from transforms.feeds.beam_pubsub import PubSubSource, ReadEntriesFromPubSub
from transforms.feeds.poll import ITEMS, STATE
from transforms.feeds.schedule import PollPlan
from transforms.feeds.stage import ReadFeeds, ReadFeedsStreaming
from transforms.fetch.stage import FetchArticles
from transforms.tag.stage import TagArticles
from transforms.warehouse.stage import WriteBigQuery, WriteDuckDB


def build_pipeline(options: PipelineOptions, inputs: RunInputs) -> beam.Pipeline:
    """The whole graph: ReadFeeds -> FetchArticles -> Extract -> Clean -> Tag -> Deduplicate -> Write Warehouse.

    Agency items (endpoints polled by ReadFeeds, files of ReadDropFolders) join at Clean.
    """
    settings = inputs.settings
    streaming = bool(options.view_as(StandardOptions).streaming)
    p = beam.Pipeline(options=options)
    # The local live stream polls drop folders itself (its runner cannot run fileio's watch).
    live = streaming and not isinstance(inputs.source, (PollPlan, PubSubSource))
    folders = [] if live else [s for s in inputs.specs if s.kind == "folder"]
    feeds = p | "Create Feeds" >> beam.Create([s for s in inputs.specs if s.kind != "folder" or live])
    registry = p | "Create Agency Registry" >> beam.Create([inputs.registry_data])
    read = feeds | "Read Feeds" >> (ReadFeedsStreaming(settings, _feed_source(inputs), inputs.lookup) if streaming
                                    else ReadFeeds(settings, inputs.lookup))
    fetched = read["entries"] | "Fetch Articles" >> FetchArticles(settings)
    extracted = fetched["pages"] | "Extract Articles" >> ExtractArticles(settings)
    # Agency items (endpoints, drop folders) skip fetch and extraction and join the pages' drafts here.
    drafts, read_dead = [extracted["drafts"]], [read[DEAD]]
    if ITEMS in read:
        drafts.append(read[ITEMS])
    if folders:
        dropped = p | "Read Drop Folders" >> ReadDropFolders(folders, settings, streaming, _watch_s(inputs))
        drafts.append(dropped[ITEMS])
        read_dead.append(dropped[DEAD])
    drafts = tuple(drafts) | "Flatten Drafts" >> beam.Flatten()
    cleaned = drafts | "Clean Articles" >> CleanArticles(settings, registry)
    tagged = cleaned["drafts"] | "Tag Articles" >> TagArticles(registry)
    # The builder composes the stream's or the batch's dedup; both keep the label 'Deduplicate'.
    dedup = (DeduplicateStreaming if streaming else DeduplicateBatch)(settings, inputs.lookup)
    deduped = tagged["drafts"] | "Deduplicate" >> dedup
    dead = ((*read_dead, fetched[DEAD], extracted[DEAD], cleaned[DEAD], tagged[DEAD])
            | "Flatten Dead Letters" >> beam.Flatten())
    _ = ({"articles": deduped["articles"], "dead_letters": dead, "feed_state": read[STATE],
          INDEX: deduped[INDEX]}
         | "Write Warehouse" >> _sink(options, inputs, streaming))
    return p


def _feed_source(inputs: RunInputs) -> beam.PTransform:
    """The streaming source, labelled as the pinned graph has it: the SDF, Pub/Sub, or the local stream."""
    source = inputs.source
    if isinstance(source, PollPlan):
        return "Poll Feeds" >> PollFeeds(inputs.settings, source, inputs.lookup)
    if isinstance(source, PubSubSource):
        return "Read Entry Messages" >> ReadEntriesFromPubSub(source)
    return "Poll Feeds" >> source  # the local live stream prepare started (pipeline/local_stream.py)


def _watch_s(inputs: RunInputs):
    """How long a stream watches drop folders: --duration, else --max-polls folder intervals, else for ever."""
    plan = inputs.source
    if inputs.duration_s is not None or not isinstance(plan, PollPlan) or plan.max_polls is None:
        return inputs.duration_s
    return plan.max_polls * inputs.settings.sources.folder_poll_interval_s


def _sink(options: PipelineOptions, inputs: RunInputs, streaming: bool) -> beam.PTransform:
    if inputs.bigquery is not None:
        bq = inputs.bigquery
        return WriteBigQuery(bq.target, inputs.settings, streaming=streaming, staging=bq.staging,
                             endpoint=bq.endpoint, temp_location=bq.temp_location)
    wopts = options.view_as(WiredeskOptions)
    # Sources that stream on the local runner get the writer's processing-time flush too.
    return WriteDuckDB(inputs.warehouse, inputs.settings, streaming=streaming,
                          timed_flush=streaming and (wopts.source == "pubsub" or streams_live(options)))
