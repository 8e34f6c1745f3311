"""The `wiredesk` command: run, demo and query."""
from __future__ import annotations

import argparse
import logging
import sys
import time

from pipeline.feeds_config import ConfigError
from pipeline.options import DEFAULT_WAREHOUSE, WiredeskOptions

DEMO_WAREHOUSE = "wiredesk-demo.duckdb"
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

    options = PipelineOptions(argv)
    started = time.monotonic()
    pipeline = build_pipeline(options, settings)
    result = pipeline.run()
    result.wait_until_finish()
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
        cur = con.execute(sql)
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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wiredesk", description="News feeds in; deduplicated, agency-tagged "
                                     "articles out, in a warehouse you can query in SQL.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline over feeds",
                         description="Run the pipeline. Any option not listed here is passed to Apache Beam "
                                     "(e.g. --runner, --direct_num_workers, --streaming).",
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    WiredeskOptions._add_argparse_args(run)
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="run the offline demo corpus into a DuckDB file and show queries",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    demo.add_argument("--warehouse", default=DEMO_WAREHOUSE, help="DuckDB file to write")
    demo.set_defaults(func=cmd_demo)
    q = sub.add_parser("query", help="run SQL against the warehouse and print a table",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    q.add_argument("--warehouse", default=DEFAULT_WAREHOUSE, help="DuckDB file to query")
    q.add_argument("sql", help="the SQL statement")
    q.set_defaults(func=cmd_query)
    return parser


def main(argv: list | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = make_parser()
    args, rest = parser.parse_known_args(argv)
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
