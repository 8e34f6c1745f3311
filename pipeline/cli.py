"""The `wiredesk` command: run, poll, demo, query and report.

This module is argparse, one cmd_* function per command and the rendering of errors as one line;
the work is done elsewhere: pipeline/run.py runs the pipeline, pipeline/queries/ runs SQL,
pipeline/demo.py and pipeline/report/ are the demo and the report. Nothing imports this module.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from pipeline import logging_setup, progress, queries
from pipeline.demo import run_demo
from pipeline.feeds_config import parse_duration, resolve_feeds
from pipeline.options import DEFAULT_WAREHOUSE, add_options, to_argv
from pipeline.prepare import settings_from_options
from pipeline.report import write_report
from pipeline.run import print_summary, run_pipeline, stop_on_interrupt
from schemas.errors import ConfigError, WarehouseError

DEMO_WAREHOUSE = "wiredesk-demo.duckdb"
DEFAULT_REPORT = "wiredesk-report.html"
# `wiredesk poll` shares these of `run`'s options; FETCH_OPTIONS are those its fetcher settings read.
FETCH_OPTIONS = ("proxy", "allow_private_networks", "ignore_robots", "min_host_gap")
POLL_OPTIONS = ("feeds", "warehouse", *FETCH_OPTIONS, "poll_interval", "duration", "max_polls")


def cmd_run(args, beam_args) -> int:
    argv = [*beam_args, *to_argv(args)]
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

    from pipeline.publish import poll_and_publish
    from transforms.feeds.beam_pubsub import check_topic

    if beam_args:
        raise ConfigError(f"poll: unexpected arguments {' '.join(beam_args)}")
    if not args.feeds:
        raise ConfigError("--feeds is required: a YAML feeds file or a feed URL")
    topic = check_topic(args.publish)
    settings = settings_from_options(PipelineOptions(to_argv(args, FETCH_OPTIONS)))
    with stop_on_interrupt(True):
        totals = poll_and_publish(
            settings, resolve_feeds(args.feeds), topic, warehouse=args.warehouse or None,
            poll_interval_s=parse_duration(args.poll_interval, "--poll-interval") if args.poll_interval else None,
            max_polls=args.max_polls, duration_s=parse_duration(args.duration, "--duration") if args.duration else None)
    print(f"wiredesk poll: {totals['polls']} polls ({totals['unchanged']} unchanged/304), "
          f"{totals['published']} entries published to {topic}, {totals['known']} already stored, "
          f"{totals['dead_letters']} dead letters")
    return 0


def check_duckdb_target(warehouse: str) -> None:
    """Before a run, not after it: a DuckDB --warehouse must be a file in an existing directory."""
    if not warehouse or warehouse.startswith("bigquery:") or "://" in warehouse:
        return  # prepare() explains these
    path = Path(warehouse).expanduser()
    if path.is_dir():
        raise ConfigError(f"--warehouse {warehouse}: is a directory; give a DuckDB file path such as "
                          f"{path / 'wiredesk.duckdb'}")
    if not path.parent.is_dir():
        raise ConfigError(f"--warehouse {warehouse}: directory {path.parent} does not exist; create it first")


def cmd_demo(args, beam_args) -> int:
    check_duckdb_target(args.warehouse)
    rc = run_demo(args.warehouse, list(beam_args))
    if rc == 0:
        print(f"\nnext: wiredesk report --warehouse {args.warehouse} --out {DEFAULT_REPORT}   "
              f"(then open {DEFAULT_REPORT} in a browser)")
    return rc


def cmd_query(args, beam_args) -> int:
    if beam_args:
        raise ConfigError(f"query: unexpected arguments {' '.join(beam_args)}")
    if args.saved == "list":
        print("\n".join(f"{n:<30} {queries.summary(n)}" for n in queries.names()))
        return 0
    if (args.saved is None) == (args.sql is None):
        raise ConfigError("query: give either SQL or --saved NAME (--saved list shows the names)")
    if args.saved is not None:
        print(queries.run_saved(args.warehouse, args.saved))
    else:
        print(queries.run_sql(args.warehouse, args.sql))
    return 0


def cmd_report(args, beam_args) -> int:
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


def add_ux_args(parser: argparse.ArgumentParser, with_progress: bool = False) -> None:
    """--log-level/--log-format on every subcommand; --progress where a pipeline runs."""
    parser.add_argument("--log-level", "--log_level", dest="log_level", type=str.upper,
                        choices=logging_setup.LEVELS, default=logging_setup.DEFAULT_LEVEL,
                        help="Log level; below DEBUG, Beam's and other libraries' chatter is held to WARNING.")
    parser.add_argument("--log-format", "--log_format", dest="log_format", choices=logging_setup.FORMATS,
                        default=logging_setup.DEFAULT_FORMAT,
                        help="One line per event on stderr: 'text' (ts level logger event key=value) or "
                             "'json' (JSON lines).")
    if with_progress:
        parser.add_argument("--progress", choices=progress.MODES, default="auto",
                            help="Progress during the run: 'live' redraws one line on the terminal, 'log' "
                                 "writes a progress log line every --progress-interval, 'auto' picks live on a "
                                 "terminal and log otherwise.")
        parser.add_argument("--progress-interval", "--progress_interval", dest="progress_interval", type=_positive_seconds,
                            default=None, metavar="SECONDS",
                            help=f"Seconds between progress updates. (default: {progress.DEFAULT_LIVE_INTERVAL_S} "
                                 f"live, {progress.DEFAULT_LOG_INTERVAL_S:g} log)")


def configure_ux(args) -> None:
    logging_setup.configure(getattr(args, "log_level", logging_setup.DEFAULT_LEVEL),
                            getattr(args, "log_format", logging_setup.DEFAULT_FORMAT))
    progress.configure(getattr(args, "progress", "off"), getattr(args, "progress_interval", None))


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiredesk", description="News feeds in; deduplicated, agency-tagged "
                                     "articles out, in a warehouse you can query in SQL.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline over feeds",
                         description="Run the pipeline. Any option not listed here is passed to Apache Beam "
                                     "(e.g. --runner, --direct_num_workers, --streaming).",
                         formatter_class=_HelpFormatter)
    add_options(run)
    add_ux_args(run, with_progress=True)
    run.set_defaults(func=cmd_run)
    poll = sub.add_parser("poll", help="poll feeds and publish new entries to Pub/Sub",
                          description="Poll the feeds like `run --streaming` (conditional GET, adaptive "
                                      "intervals, feed state kept in --warehouse) and publish each new entry "
                                      "to a Pub/Sub topic, for `wiredesk run --source pubsub`. Honours "
                                      "PUBSUB_EMULATOR_HOST.",
                          formatter_class=_HelpFormatter)
    poll.add_argument("--publish", required=True, metavar="projects/P/topics/T",
                      help="Pub/Sub topic to publish entries to. (required)")
    add_options(poll, POLL_OPTIONS)
    add_ux_args(poll)
    poll.set_defaults(func=cmd_poll)
    demo = sub.add_parser("demo", help="run the offline demo corpus into a DuckDB file and show queries",
                          formatter_class=_HelpFormatter)
    demo.add_argument("--warehouse", default=DEMO_WAREHOUSE, help="DuckDB file to write")
    add_ux_args(demo, with_progress=True)
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
    try:
        return args.func(args, rest)
    except (ConfigError, WarehouseError) as err:
        print(f"wiredesk: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wiredesk: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - a failure inside a Beam worker arrives wrapped; say it in one line
        chain = _chain(err)
        explained = next((e for e in chain if isinstance(e, (ConfigError, WarehouseError))), None)
        if explained is not None:  # raised in a worker and wrapped on its way here
            print(f"wiredesk: error: {_one_line(explained)}", file=sys.stderr)
            return 2
        warehouse, message = _describe_failure(err)
        print(f"wiredesk: error: {message}", file=sys.stderr)
        return 2 if warehouse else 1


_STEP = re.compile(r" \[while running '([^']*)'\]")


def _one_line(err: BaseException) -> str:
    """An explained error's message on one line, without Beam's " [while running 'Step']" suffix."""
    text = _STEP.split(str(err), 1)[0]
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _chain(err: BaseException | None) -> list:
    chain, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        chain.append(err)
        err = err.__cause__ or err.__context__
    return chain


def _describe_failure(err: BaseException) -> tuple:
    """(is it the warehouse?, one line for a person) from an exception a Beam run raised.

    The warehouse failed when a WarehouseError or a DuckDB error is in the exception's chain, or,
    when a worker could not keep the exception's type, when Beam names the failed step
    'Write Warehouse' (its " [while running 'Step']" annotation).
    """
    import duckdb

    chain = _chain(err)
    text = " ".join(f"{type(e).__module__}.{type(e).__name__}: {e}" for e in chain)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = next((ln for ln in lines if "Error" in ln or "Exception" in ln), lines[0] if lines else repr(chain[0]))
    first = first.split(" [while running", 1)[0][:400]
    steps = {step.split("/", 1)[0] for e in chain for step in _STEP.findall(str(e))}
    warehouse = any(isinstance(e, (WarehouseError, duckdb.Error)) for e in chain) or "Write Warehouse" in steps
    if warehouse:
        return True, (f"the warehouse could not be written ({first}). Rows written before this point are "
                      "intact; fix the cause (disk space, another process holding the file) and run again.")
    return False, f"the run failed: {first} (rerun with --log-level DEBUG for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
