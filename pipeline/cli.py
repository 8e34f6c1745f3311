"""The `wiredesk` command: run, demo and query."""
from __future__ import annotations

import argparse
import logging
import sys
import time

from pipeline.feeds_config import ConfigError
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
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.builder import build_pipeline
    from pipeline.summary import run_counters

    if not any(a == "--runner" or a.startswith("--runner=") for a in argv):
        # Beam's DirectRunner first tries to download Prism from the internet; the in-process
        # FnApiRunner is what it falls back to anyway, so name it and stay offline.
        argv = [*argv, "--runner", DEFAULT_RUNNER]
    from pipeline import progress
    from pipeline.logging_setup import event

    options = PipelineOptions(argv)
    started = time.monotonic()
    pipeline = build_pipeline(options, settings)
    wopts = options.view_as(WiredeskOptions)
    event(_log, logging.INFO, "run_started", feeds=len(wopts.feeds or []), warehouse=wopts.warehouse)
    with progress.reporting():
        result = pipeline.run()
        result.wait_until_finish()
    event(_log, logging.INFO, "run_finished", elapsed_s=round(time.monotonic() - started, 1))
    return {"counters": run_counters(result), "elapsed_s": time.monotonic() - started,
            "warehouse": options.view_as(WiredeskOptions).warehouse}


def print_summary(outcome: dict) -> None:
    from pipeline.summary import format_summary, warehouse_facts
    from transforms import duckdb_store

    con = duckdb_store.connect(outcome["warehouse"], read_only=True)
    try:
        print(format_summary(outcome["counters"], warehouse_facts(con), outcome["elapsed_s"]))
    finally:
        con.close()


def query(warehouse: str, sql: str) -> str:
    from pipeline.summary import format_table
    from transforms import duckdb_store

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
    if not args.feeds:
        raise ConfigError("--feeds is required: a YAML feeds file or a feed URL")
    print_summary(run_pipeline(argv))
    return 0


def cmd_demo(args, beam_args) -> int:
    from pipeline.demo import run_demo

    return run_demo(args.warehouse, list(beam_args))


def cmd_query(args, beam_args) -> int:
    if beam_args:
        raise ConfigError(f"query: unexpected arguments {' '.join(beam_args)}")
    print(query(args.warehouse, args.sql))
    return 0


def cmd_report(args, beam_args) -> int:
    from pipeline.report import write_report

    if beam_args:
        raise ConfigError(f"report: unexpected arguments {' '.join(beam_args)}")
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
    demo = sub.add_parser("demo", help="run the offline demo corpus into a DuckDB file and show queries",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    demo.add_argument("--warehouse", default=DEMO_WAREHOUSE, help="DuckDB file to write")
    add_ux_args(demo, progress=True)
    demo.set_defaults(func=cmd_demo)
    q = sub.add_parser("query", help="run SQL against the warehouse and print a table",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    q.add_argument("--warehouse", default=DEFAULT_WAREHOUSE, help="DuckDB file to query")
    q.add_argument("sql", help="the SQL statement")
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
    from transforms.duckdb_store import WarehouseError

    try:
        return args.func(args, rest)
    except (ConfigError, WarehouseError) as err:
        print(f"wiredesk: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wiredesk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
