"""Run the pipeline in this process: prepare, build, run, stop a stream cleanly, print the outcome.

`run_pipeline` is what `wiredesk run`, the demo, the tests and the benchmarks call. A stream on
the local runner stops at --duration, at --max-polls or at Ctrl-C (`stop_on_interrupt`); a Pub/Sub
stream never ends by itself there, so `_run_pubsub_until_stopped` drains and cancels it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import sys
import threading
import time

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, StandardOptions

from pipeline import local_stream, progress
from pipeline.builder import build_pipeline
from pipeline.logging_setup import event
from pipeline.options import WiredeskOptions, local_worker_args
from pipeline.prepare import prepare, streams_live
from pipeline.summary import conservation, format_summary, run_counters, warehouse_facts
from schemas.settings import Settings
from transforms.feeds import schedule
from transforms.util.times import utc_now

DEFAULT_RUNNER = "FnApiRunner"
_log = logging.getLogger("wiredesk.run")


def run_pipeline(argv: list, settings: Settings | None = None) -> dict:
    """Build and run the pipeline from command-line style arguments; returns counters and timing."""
    if not any(a == "--runner" or a.startswith("--runner=") for a in argv):
        # Beam's DirectRunner first tries to download Prism from the internet; the in-process
        # FnApiRunner is what it falls back to anyway, so name it and stay offline. Streams (Pub/Sub
        # or the live poll source) run on the BundleBasedDirectRunner, the local runner that
        # streams, which the DirectRunner would pick for them too.
        argv = [*argv, "--runner", "BundleBasedDirectRunner" if "--streaming" in argv else DEFAULT_RUNNER]
    # A local batch run uses every core (one SDK worker process each); DuckDB still has one writer,
    # the one 'Write Batches' call after 'Group Rows'.
    argv = [*argv, *local_worker_args(argv)]
    options = PipelineOptions(argv)
    started = time.monotonic()
    started_at = utc_now()  # the summary reads back only what this run wrote
    inputs = prepare(options, settings)
    wopts = options.view_as(WiredeskOptions)
    live = streams_live(options)  # prepare() started the live poll service; stop it whatever happens
    try:
        if inputs.dry_run:
            pipeline = build_pipeline(options, inputs)
            return {"dry_run": describe_job(pipeline, options, inputs), "elapsed_s": time.monotonic() - started,
                    "warehouse": wopts.warehouse}
        streaming = bool(options.view_as(StandardOptions).streaming)
        event(_log, logging.INFO, "run_started", feeds_args=len(wopts.feeds or []), warehouse=wopts.warehouse,
              runner=options.view_as(StandardOptions).runner, streaming=streaming)
        parts = batch_slices(options, inputs)
        totals: dict = {}
        with progress.reporting(), stop_on_interrupt(streaming):
            for number, part in enumerate(parts, 1):
                if len(parts) > 1:
                    event(_log, logging.INFO, "slice_started", slice=number, slices=len(parts), feeds=len(part.specs))
                counters = _run_one(build_pipeline(options, part), part, wopts, streaming, live)
                totals = {k: totals.get(k, 0) + counters.get(k, 0) for k in totals.keys() | counters.keys()}
                if len(parts) > 1:
                    progress.settle(totals)
    finally:
        if live:
            local_stream.forget_services()
    event(_log, logging.INFO, "run_finished", elapsed_s=round(time.monotonic() - started, 1))
    return {"counters": totals, "elapsed_s": time.monotonic() - started, "started_at": started_at,
            "warehouse": wopts.warehouse}


def batch_slices(options, inputs) -> list:
    """The run's inputs as successive slices of feeds: a local batch run over many feeds, else one run.

    Each slice is a whole run (read, fetch, ..., write) over its feeds, so its rows are stored before
    the next slice starts; later slices meet earlier ones' links, articles and stories through the
    same look-ups a rerun makes. Dataflow and streams are never sliced.
    """
    size = inputs.settings.warehouse.feeds_per_slice
    runner = (options.view_as(StandardOptions).runner or "").lower()
    local = "dataflow" not in runner
    if options.view_as(StandardOptions).streaming or not local or size <= 0 or len(inputs.specs) <= size:
        return [inputs]
    specs = list(inputs.specs)
    return [dataclasses.replace(inputs, specs=tuple(specs[i:i + size])) for i in range(0, len(specs), size)]


def _run_one(pipeline, inputs, wopts, streaming: bool, live) -> dict:
    """Run one graph to its end; returns its counters."""
    result = pipeline.run()
    if streaming and wopts.source == "pubsub":
        _run_pubsub_until_stopped(result, inputs.duration_s, inputs.settings)
        # A cancelled local run's metrics miss its last bundles; the in-process tally has them all.
        return progress.snapshot()
    result.wait_until_finish()
    if live:
        for failure in local_stream.failures():
            # The runner saw only an ended stream; the polls died, and the run must say so.
            raise RuntimeError(f"the feed poller stopped: {type(failure).__name__}: {failure}") from failure
        # The live source polls outside any Beam step, so only the in-process tally has its counts.
        return progress.snapshot()
    counters = run_counters(result)
    if not streaming:
        # Worker processes relay their counts late or not at all; the final line shows Beam's.
        progress.settle(counters)
    return counters


@contextlib.contextmanager
def stop_on_interrupt(streaming: bool):
    """While a stream runs, the first Ctrl-C stops it cleanly (sources end, sinks flush); a second aborts."""
    schedule.reset_stop()
    if not streaming or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum, frame):
        if schedule.stop_requested():
            raise KeyboardInterrupt
        print("wiredesk: stopping: finishing the current polls and flushing (Ctrl-C again to abort)",
              file=sys.stderr)
        schedule.request_stop()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        schedule.reset_stop()
        schedule.forget_runs()


def _run_pubsub_until_stopped(result, duration_s: float | None, settings: Settings) -> None:
    """The Pub/Sub stream on the local runner: until --duration or Ctrl-C, then drain and stop.

    The BundleBasedDirectRunner never finishes an unbounded read, and `wait_until_finish(duration)`
    is not supported there. So: wait, then wait until the counters stop moving (in-flight entries
    fetched, written by the writer's timed flush), then cancel.
    """
    from apache_beam.runners.runner import PipelineState

    deadline = time.monotonic() + duration_s if duration_s else None
    while not schedule.stop_requested() and (deadline is None or time.monotonic() < deadline):
        if PipelineState.is_terminal(result.state):
            return
        _raise_if_failed(result)
        time.sleep(0.2)
    # Drain: stop once every entry read is accounted for and written (or after a quiet spell; the
    # local reader moves its watermark only when a pull returns, which takes up to 30 s when idle).
    quiet_s = 30.0 + settings.stream.window_s + settings.warehouse.batch_seconds + 5.0
    last, still_since = None, time.monotonic()
    while time.monotonic() - still_since < quiet_s and not PipelineState.is_terminal(result.state):
        _raise_if_failed(result)
        now = progress.snapshot()
        if now != last:
            last, still_since = now, time.monotonic()
        if _drained(now):
            break
        time.sleep(0.2)
    result.cancel()


def _raise_if_failed(result) -> None:
    """Cancel the run and raise if a step failed.

    The local runner reports a failed step only to wait_until_finish(), which never returns for a
    stream, so this reads its private update queue (`_executor.visible_updates`). Beam is pinned
    in setup.py; after upgrading it, run tests/streaming (test_pubsub.py) to see this still works.
    """
    updates = getattr(getattr(result, "_executor", None), "visible_updates", None)
    update = updates.poll() if updates is not None else None
    if update is not None and getattr(update, "exception", None):
        result.cancel()
        raise update.exception


def _drained(counts: dict) -> bool:
    """Every entry read is an article, a dead letter or a counted skip, and all of them are written."""
    cons = conservation(counts)
    dead = sum(v for k, v in counts.items() if k.endswith(".dead_letters") and not k.startswith("write."))
    return (cons["entries"] > 0 and cons["balanced"]
            and counts.get("write.articles.received", 0) >= cons["articles"]
            and counts.get("write.dead_letters.received", 0) >= dead)


def describe_job(pipeline, options, inputs) -> dict:
    """Submit a --dry_run job (nothing leaves this machine) and describe what would be submitted.

    Only the DataflowRunner honours --dry_run; any other runner would run the job, so for them
    the graph is described without running it.
    """
    standard = options.view_as(StandardOptions)
    runner = standard.runner if isinstance(standard.runner, str) else type(standard.runner).__name__
    result = pipeline.run() if "dataflow" in (runner or "").lower() else None
    job = getattr(result, "job", None)
    proto = job.proto_pipeline if job is not None else pipeline.to_runner_api()
    top = sorted({t.unique_name for t in proto.components.transforms.values()
                  if t.unique_name and "/" not in t.unique_name and not t.unique_name.startswith("ref_")})
    gcp = options.view_as(GoogleCloudOptions)
    return {"runner": str(standard.runner), "project": gcp.project, "region": gcp.region,
            "job_name": gcp.job_name or "(named at submission)", "streaming": bool(standard.streaming),
            "feeds": len(inputs.specs), "warehouse": inputs.warehouse, "steps": top,
            "transforms": len(proto.components.transforms), "graph_bytes": proto.ByteSize()}


def print_dry_run(described: dict) -> None:
    print("wiredesk: dry run: nothing was submitted, created or written")
    for key in ("runner", "project", "region", "job_name", "streaming", "feeds", "warehouse", "transforms"):
        print(f"  {key}: {described[key]}")
    print(f"  steps: {', '.join(described['steps'])}")
    print(f"job graph size: {described['graph_bytes']} bytes")


def print_summary(outcome: dict) -> None:
    """The end-of-run summary of run_pipeline's outcome (or the dry run's description) on stdout."""
    from transforms.warehouse import bigquery_store, duckdb_store

    if "dry_run" in outcome:
        print_dry_run(outcome["dry_run"])
        return
    if bigquery_store.is_bigquery(outcome["warehouse"]):
        con = bigquery_store.connect(outcome["warehouse"])
    else:
        con = duckdb_store.connect(outcome["warehouse"], read_only=True)
    try:
        facts = warehouse_facts(con, since=outcome.get("started_at"))
        print(format_summary(outcome["counters"], facts, outcome["elapsed_s"]))
    finally:
        con.close()
