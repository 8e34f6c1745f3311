"""The `wiredesk` command: run, demo and query."""
from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time

from schemas.errors import ConfigError
from pipeline.options import DEFAULT_WAREHOUSE, WiredeskOptions

DEMO_WAREHOUSE = "wiredesk-demo.duckdb"
DEFAULT_REPORT = "wiredesk-report.html"
_log = logging.getLogger("wiredesk.run")
DEFAULT_RUNNER = "FnApiRunner"
EXAMPLE_QUERIES = [
    ("Articles per agency",
     "SELECT coalesce(agency, '(staff)') AS agency, count(*) AS articles FROM articles GROUP BY 1 ORDER BY 2 DESC"),
    ("Stories carried by more than one outlet",
     "SELECT title, outlet_count, agency, first_outlet FROM stories WHERE outlet_count > 1 "
     "ORDER BY outlet_count DESC, first_published_at"),
    ("Dead letters by stage and reason",
     "SELECT stage, error_class, url FROM dead_letters ORDER BY stage, error_class"),
]


def run_pipeline(argv: list, settings=None) -> dict:
    """Build and run the pipeline from command-line style arguments; returns counters and timing."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from pipeline.builder import build_pipeline
    from pipeline.prepare import prepare, streams_live
    from pipeline.summary import run_counters

    if not any(a == "--runner" or a.startswith("--runner=") for a in argv):
        # Beam's DirectRunner first tries to download Prism from the internet; the in-process
        # FnApiRunner is what it falls back to anyway, so name it and stay offline. Streams (Pub/Sub
        # or the live poll source) run on the BundleBasedDirectRunner, the local runner that
        # streams, which the DirectRunner would pick for them too.
        argv = [*argv, "--runner", "BundleBasedDirectRunner" if "--streaming" in argv else DEFAULT_RUNNER]
    from pipeline import progress
    from pipeline.logging_setup import event

    options = PipelineOptions(argv)
    started = time.monotonic()
    inputs = prepare(options, settings)
    pipeline = build_pipeline(options, inputs)
    wopts = options.view_as(WiredeskOptions)
    if inputs.dry_run:
        return {"dry_run": describe_job(pipeline, options, inputs), "elapsed_s": time.monotonic() - started,
                "warehouse": wopts.warehouse}
    streaming = options.view_as(StandardOptions).streaming
    event(_log, logging.INFO, "run_started", feeds_args=len(wopts.feeds or []), warehouse=wopts.warehouse,
          runner=options.view_as(StandardOptions).runner, streaming=bool(streaming))
    with progress.reporting(), _stop_on_interrupt(streaming):
        result = pipeline.run()
        live_counters = None
        if streaming and wopts.source == "pubsub":
            _run_pubsub_until_stopped(result, wopts, settings)
            # A cancelled local run's metrics miss its last bundles; the in-process tally has them all.
            live_counters = progress.snapshot()
        else:
            result.wait_until_finish()
            if streams_live(options):
                from pipeline import local_stream as live_poll

                for failure in live_poll.failures():
                    # The runner saw only an ended stream; the polls died, and the run must say so.
                    raise RuntimeError(f"the feed poller stopped: {type(failure).__name__}: {failure}") from failure
                # The live source polls outside any Beam step, so only the in-process tally has its counts.
                live_counters = progress.snapshot()
    event(_log, logging.INFO, "run_finished", elapsed_s=round(time.monotonic() - started, 1))
    return {"counters": live_counters or run_counters(result), "elapsed_s": time.monotonic() - started,
            "warehouse": options.view_as(WiredeskOptions).warehouse}


@contextlib.contextmanager
def _stop_on_interrupt(streaming: bool):
    """While a stream runs, the first Ctrl-C stops it cleanly (sources end, sinks flush); a second aborts."""
    from transforms.feeds import beam_poll as poll_feeds

    poll_feeds.reset_stop()
    if not streaming or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum, frame):
        if poll_feeds.stop_requested():
            raise KeyboardInterrupt
        print("wiredesk: stopping: finishing the current polls and flushing (Ctrl-C again to abort)",
              file=sys.stderr)
        poll_feeds.request_stop()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        poll_feeds.reset_stop()
        poll_feeds.forget_runs()


def _run_pubsub_until_stopped(result, wopts, settings) -> None:
    """The Pub/Sub stream on the local runner: until --duration or Ctrl-C, then drain and stop.

    The BundleBasedDirectRunner never finishes an unbounded read, and `wait_until_finish(duration)`
    is not supported there. So: wait, then wait until the counters stop moving (in-flight entries
    fetched, written by the writer's timed flush), then cancel.
    """
    from apache_beam.runners.runner import PipelineState

    from pipeline import progress
    from pipeline.feeds_config import parse_duration
    from schemas.settings import Settings
    from transforms.feeds import beam_poll as poll_feeds

    settings = settings or Settings()
    deadline = time.monotonic() + parse_duration(wopts.duration, "--duration") if wopts.duration else None
    def check_failed():
        # The local runner reports a failed step only to wait_until_finish(), which never returns
        # for a stream; look at its update queue so a failure stops the run instead of stalling it.
        updates = getattr(getattr(result, "_executor", None), "visible_updates", None)
        update = updates.poll() if updates is not None else None
        if update is not None and getattr(update, "exception", None):
            result.cancel()
            raise update.exception

    while not poll_feeds.stop_requested() and (deadline is None or time.monotonic() < deadline):
        if PipelineState.is_terminal(result.state):
            return
        check_failed()
        time.sleep(0.2)
    # Drain: stop once every entry read is accounted for and written (or after a quiet spell; the
    # local reader moves its watermark only when a pull returns, which takes up to 30 s when idle).
    quiet_s = 30.0 + settings.stream.window_s + settings.warehouse.batch_seconds + 5.0
    last, still_since = None, time.monotonic()
    while time.monotonic() - still_since < quiet_s and not PipelineState.is_terminal(result.state):
        check_failed()
        now = progress.snapshot()
        if now != last:
            last, still_since = now, time.monotonic()
        if _drained(now):
            break
        time.sleep(0.2)
    result.cancel()


def _drained(counts: dict) -> bool:
    """Every entry read is an article, a dead letter or a counted skip, and all of them are written."""
    from pipeline.summary import conservation

    cons = conservation(counts)
    dead = sum(v for k, v in counts.items() if k.endswith(".dead_letters") and not k.startswith("write."))
    return (cons["entries"] > 0 and cons["balanced"]
            and counts.get("write.articles.received", 0) >= cons["articles"]
            and counts.get("write.dead_letters.received", 0) >= dead)


def describe_job(pipeline, options, inputs) -> dict:
    """Submit a --dry_run job (nothing leaves this machine) and describe what would be submitted."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions, StandardOptions

    result = pipeline.run()
    job = getattr(result, "job", None)
    proto = job.proto_pipeline if job is not None else pipeline.to_runner_api()
    top = sorted({t.unique_name for t in proto.components.transforms.values()
                  if t.unique_name and "/" not in t.unique_name and not t.unique_name.startswith("ref_")})
    gcp = options.view_as(GoogleCloudOptions)
    return {"runner": str(options.view_as(StandardOptions).runner), "project": gcp.project, "region": gcp.region,
            "job_name": gcp.job_name or "(named at submission)", "streaming": bool(options.view_as(StandardOptions).streaming),
            "feeds": len(inputs.specs), "warehouse": inputs.warehouse, "steps": top,
            "transforms": len(proto.components.transforms), "graph_bytes": proto.ByteSize()}


def print_dry_run(described: dict) -> None:
    print("wiredesk: dry run: nothing was submitted, created or written")
    for key in ("runner", "project", "region", "job_name", "streaming", "feeds", "warehouse", "transforms"):
        print(f"  {key}: {described[key]}")
    print(f"  steps: {', '.join(described['steps'])}")
    print(f"job graph size: {described['graph_bytes']} bytes")


def print_summary(outcome: dict) -> None:
    from pipeline.summary import format_summary, warehouse_facts
    from transforms.warehouse import bigquery_store, duckdb_store

    if "dry_run" in outcome:
        print_dry_run(outcome["dry_run"])
        return
    if bigquery_store.is_bigquery(outcome["warehouse"]):
        con = bigquery_store.connect(outcome["warehouse"])
    else:
        con = duckdb_store.connect(outcome["warehouse"], read_only=True)
    try:
        print(format_summary(outcome["counters"], warehouse_facts(con), outcome["elapsed_s"]))
    finally:
        con.close()


def query(warehouse: str, sql: str) -> str:
    from pipeline.summary import format_table
    from transforms.warehouse import bigquery_store, duckdb_store

    if bigquery_store.is_bigquery(warehouse):
        return saved_or_bigquery_query(warehouse, sql=sql)
    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        try:
            cur = con.execute(sql)
        except duckdb_store.duckdb.Error as err:
            raise duckdb_store.WarehouseError(f"query failed: {err}") from None
        columns = [d[0] for d in cur.description] if cur.description else []
        return format_table(columns, cur.fetchall()) if columns else "(no result)"
    finally:
        con.close()


def cmd_run(args, beam_args) -> int:
    argv = list(beam_args)
    for feed in args.feeds or []:
        argv += ["--feeds", feed]
    argv += ["--warehouse", args.warehouse]
    if args.proxy:
        argv += ["--proxy", args.proxy]
    if args.allow_private_networks:
        argv.append("--allow_private_networks")
    if args.agency_registry:
        argv += ["--agency_registry", args.agency_registry]
    if args.ignore_robots:
        argv.append("--ignore_robots")
    if args.min_host_gap is not None:
        argv += ["--min_host_gap", str(args.min_host_gap)]
    argv += ["--source", args.source]
    for name in ("subscription", "poll_interval", "duration", "max_polls"):
        if getattr(args, name) is not None:
            argv += [f"--{name}", str(getattr(args, name))]
    if args.source == "pubsub":
        if not args.subscription:
            raise ConfigError("--source pubsub needs --subscription projects/P/subscriptions/S")
        if "--streaming" not in argv:
            argv.append("--streaming")
    elif not args.feeds:
        raise ConfigError("--feeds is required: a YAML feeds file or a feed URL")
    elif (args.duration or args.max_polls or args.poll_interval) and "--streaming" not in argv:
        raise ConfigError("--duration, --max-polls and --poll-interval apply to --streaming runs")
    check_duckdb_target(args.warehouse)
    print_summary(run_pipeline(argv))
    return 0


def cmd_poll(args, beam_args) -> int:
    """Poll feeds like a streaming run and publish each new entry to Pub/Sub."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.feeds_config import parse_duration, resolve_feeds
    from pipeline.prepare import settings_from_options
    from pipeline.publish import poll_and_publish
    from transforms.feeds.beam_pubsub import check_topic
    from transforms.feeds import beam_poll as poll_feeds

    if beam_args:
        raise ConfigError(f"poll: unexpected arguments {' '.join(beam_args)}")
    if not args.feeds:
        raise ConfigError("--feeds is required: a YAML feeds file or a feed URL")
    topic = check_topic(args.publish)
    argv = []
    if args.proxy:
        argv += ["--proxy", args.proxy]
    if args.allow_private_networks:
        argv.append("--allow_private_networks")
    if args.ignore_robots:
        argv.append("--ignore_robots")
    if args.min_host_gap is not None:
        argv += ["--min_host_gap", str(args.min_host_gap)]
    settings = settings_from_options(PipelineOptions(argv))
    with _stop_on_interrupt(True):
        totals = poll_and_publish(
            settings, resolve_feeds(args.feeds), topic, warehouse=args.warehouse or None,
            poll_interval_s=parse_duration(args.poll_interval, "--poll-interval") if args.poll_interval else None,
            max_polls=args.max_polls, duration_s=parse_duration(args.duration, "--duration") if args.duration else None)
    print(f"wiredesk poll: {totals['polls']} polls ({totals['unchanged']} unchanged/304), "
          f"{totals['published']} entries published to {topic}, {totals['known']} already stored, "
          f"{totals['dead_letters']} dead letters")
    poll_feeds.reset_stop()
    return 0


def check_duckdb_target(warehouse: str) -> None:
    """Before a run, not after it: a DuckDB --warehouse must be a file in an existing directory."""
    from pathlib import Path

    from transforms.warehouse import bigquery_store

    if not warehouse or bigquery_store.is_bigquery(warehouse) or "://" in warehouse:
        return  # the builder explains these
    path = Path(warehouse).expanduser()
    if path.is_dir():
        raise ConfigError(f"--warehouse {warehouse}: is a directory; give a DuckDB file path such as "
                          f"{path / 'wiredesk.duckdb'}")
    if not path.parent.is_dir():
        raise ConfigError(f"--warehouse {warehouse}: directory {path.parent} does not exist; create it first")


def cmd_demo(args, beam_args) -> int:
    from pipeline.demo import run_demo

    check_duckdb_target(args.warehouse)
    rc = run_demo(args.warehouse, list(beam_args))
    if rc == 0:
        print(f"\nnext: wiredesk report --warehouse {args.warehouse} --out {DEFAULT_REPORT}   "
              f"(then open {DEFAULT_REPORT} in a browser)")
    return rc


def saved_or_bigquery_query(warehouse: str, sql: str | None = None, saved: str | None = None) -> str:
    """A saved analysis (either engine) or ad-hoc SQL on bigquery:PROJECT.DATASET, as a table."""
    from pipeline import queries
    from pipeline.summary import format_table
    from transforms.warehouse import bigquery_store

    if saved is not None:
        try:
            columns, rows = queries.run(warehouse, saved)
        except KeyError as err:
            raise ConfigError(err.args[0]) from None
    else:
        con = bigquery_store.connect(warehouse)
        try:
            cur = con.execute(sql)
            columns, rows = [d[0] for d in cur.description or []], cur.fetchall()
        finally:
            con.close()
    return format_table(columns, rows) if columns else "(no result)"


def cmd_query(args, beam_args) -> int:
    if beam_args:
        raise ConfigError(f"query: unexpected arguments {' '.join(beam_args)}")
    if args.saved == "list":
        from pipeline import queries

        print("\n".join(f"{n:<30} {queries.summary(n)}" for n in queries.names()))
        return 0
    if (args.saved is None) == (args.sql is None):
        raise ConfigError("query: give either SQL or --saved NAME (--saved list shows the names)")
    if args.saved is not None:
        print(saved_or_bigquery_query(args.warehouse, saved=args.saved))
    else:
        print(query(args.warehouse, args.sql))
    return 0


def cmd_report(args, beam_args) -> int:
    from pipeline.report import write_report

    if beam_args:
        raise ConfigError(f"report: unexpected arguments {' '.join(beam_args)}")
    if args.warehouse.startswith("bigquery:"):
        raise ConfigError("report: reads a DuckDB warehouse file; for BigQuery use `wiredesk query --saved`")
    path = write_report(args.warehouse, args.out)
    print(f"report written to {path.resolve()} (open it in a browser; it needs no network)")
    return 0


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, unless its help already states it."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or "(required)" in text:
            return text
        return super()._get_help_string(action)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def add_ux_args(parser: argparse.ArgumentParser, progress: bool = False) -> None:
    """--log-level/--log-format on every subcommand; --progress where a pipeline runs."""
    from pipeline import logging_setup
    from pipeline import progress as prog

    parser.add_argument("--log-level", "--log_level", dest="log_level", type=str.upper,
                        choices=logging_setup.LEVELS, default=logging_setup.DEFAULT_LEVEL,
                        help="Log level; below DEBUG, Beam's and other libraries' chatter is held to WARNING.")
    parser.add_argument("--log-format", "--log_format", dest="log_format", choices=logging_setup.FORMATS,
                        default=logging_setup.DEFAULT_FORMAT,
                        help="One line per event on stderr: 'text' (ts level logger event key=value) or "
                             "'json' (JSON lines).")
    if progress:
        parser.add_argument("--progress", choices=prog.MODES, default="auto",
                            help="Progress during the run: 'live' redraws one line on the terminal, 'log' "
                                 "writes a progress log line every --progress-interval, 'auto' picks live on a "
                                 "terminal and log otherwise.")
        parser.add_argument("--progress-interval", "--progress_interval", dest="progress_interval", type=_positive_seconds,
                            default=None, metavar="SECONDS",
                            help=f"Seconds between progress updates. (default: {prog.DEFAULT_LIVE_INTERVAL_S} "
                                 f"live, {prog.DEFAULT_LOG_INTERVAL_S:g} log)")


def configure_ux(args) -> None:
    from pipeline import logging_setup, progress

    logging_setup.configure(getattr(args, "log_level", logging_setup.DEFAULT_LEVEL),
                            getattr(args, "log_format", logging_setup.DEFAULT_FORMAT))
    progress.configure(getattr(args, "progress", "off"), getattr(args, "progress_interval", None))


def _copy_option(source: argparse.ArgumentParser, target: argparse.ArgumentParser, option: str) -> None:
    """Re-declare one of `run`'s options on another subcommand, with the same names and help."""
    action = next(a for a in source._actions if option in a.option_strings)
    kwargs = {"dest": action.dest, "default": action.default, "help": action.help}
    if isinstance(action, argparse._StoreTrueAction):
        kwargs["action"] = "store_true"
    else:
        kwargs.update(type=action.type, metavar=action.metavar)
        if isinstance(action, argparse._AppendAction):
            kwargs["action"] = "append"
    target.add_argument(*action.option_strings, **kwargs)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiredesk", description="News feeds in; deduplicated, agency-tagged "
                                     "articles out, in a warehouse you can query in SQL.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline over feeds",
                         description="Run the pipeline. Any option not listed here is passed to Apache Beam "
                                     "(e.g. --runner, --direct_num_workers, --streaming).",
                         formatter_class=_HelpFormatter)
    WiredeskOptions._add_argparse_args(run)
    add_ux_args(run, progress=True)
    run.set_defaults(func=cmd_run)
    poll = sub.add_parser("poll", help="poll feeds and publish new entries to Pub/Sub",
                          description="Poll the feeds like `run --streaming` (conditional GET, adaptive "
                                      "intervals, feed state kept in --warehouse) and publish each new entry "
                                      "to a Pub/Sub topic, for `wiredesk run --source pubsub`. Honours "
                                      "PUBSUB_EMULATOR_HOST.",
                          formatter_class=_HelpFormatter)
    poll.add_argument("--publish", required=True, metavar="projects/P/topics/T",
                      help="Pub/Sub topic to publish entries to. (required)")
    for name in ("--feeds", "--warehouse", "--proxy", "--allow_private_networks", "--ignore_robots",
                 "--min_host_gap", "--poll_interval", "--duration", "--max_polls"):
        _copy_option(run, poll, name)
    add_ux_args(poll)
    poll.set_defaults(func=cmd_poll)
    demo = sub.add_parser("demo", help="run the offline demo corpus into a DuckDB file and show queries",
                          formatter_class=_HelpFormatter)
    demo.add_argument("--warehouse", default=DEMO_WAREHOUSE, help="DuckDB file to write")
    add_ux_args(demo, progress=True)
    demo.set_defaults(func=cmd_demo)
    q = sub.add_parser("query", help="run SQL against the warehouse and print a table",
                       formatter_class=_HelpFormatter)
    q.add_argument("--warehouse", default=DEFAULT_WAREHOUSE,
                   help="DuckDB file or bigquery:PROJECT.DATASET to query")
    q.add_argument("--saved", default=None, metavar="NAME",
                   help="run a saved analysis from pipeline/queries/ ('list' shows them)")
    q.add_argument("sql", nargs="?", default=None, help="the SQL statement")
    add_ux_args(q)
    q.set_defaults(func=cmd_query)
    rep = sub.add_parser("report", help="write a self-contained HTML report of the warehouse",
                         description="Write one HTML file with charts and tables of the warehouse: articles "
                                     "over time by agency, agency share by outlet, syndication lag, top "
                                     "stories, dead letters and feed health. Images are embedded; viewing it "
                                     "needs no network.",
                         formatter_class=_HelpFormatter)
    rep.add_argument("--warehouse", default=DEFAULT_WAREHOUSE, help="DuckDB file to report on")
    rep.add_argument("--out", default=DEFAULT_REPORT, metavar="FILE.html", help="HTML file to write")
    add_ux_args(rep)
    rep.set_defaults(func=cmd_report)
    return parser


def main(argv: list | None = None) -> int:
    parser = make_parser()
    args, rest = parser.parse_known_args(argv)
    configure_ux(args)
    from transforms.warehouse.duckdb_store import WarehouseError

    try:
        return args.func(args, rest)
    except (ConfigError, WarehouseError) as err:
        # Raised inside a Beam worker, the message carries Beam's " [while running 'Step']" suffix.
        print(f"wiredesk: error: {str(err).split(' [while running ', 1)[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wiredesk: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - a failure inside a Beam worker arrives wrapped; say it in one line
        warehouse, message = _describe_failure(err)
        print(f"wiredesk: error: {message}", file=sys.stderr)
        return 2 if warehouse else 1


def _describe_failure(err: BaseException) -> tuple:
    """(is it the warehouse?, one line for a person) from an exception a Beam run raised."""
    from transforms.warehouse.duckdb_store import WarehouseError

    chain, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        chain.append(err)
        err = err.__cause__ or err.__context__
    text = " ".join(f"{type(e).__module__}.{type(e).__name__}: {e}" for e in chain)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = next((ln for ln in lines if "Error" in ln or "Exception" in ln), lines[0] if lines else repr(chain[0]))
    first = first.split(" [while running", 1)[0][:400]
    warehouse = any(isinstance(e, WarehouseError) for e in chain) or any(
        key in text for key in ("WarehouseError", "duckdb", "Write Warehouse"))
    if warehouse:
        return True, (f"the warehouse could not be written ({first}). Rows written before this point are "
                      "intact; fix the cause (disk space, another process holding the file) and run again.")
    return False, f"the run failed: {first} (rerun with --log-level DEBUG for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
