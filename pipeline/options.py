"""WiredeskOptions: the pipeline's own options, parsed alongside Beam's.

Each option is declared once, in OPTIONS. `wiredesk run` and `wiredesk poll` declare theirs from
it (add_options), and `to_argv` turns what argparse parsed back into the argv PipelineOptions reads,
so adding an option here needs no change in the CLI. The Flex Template's deploy/flex/metadata.json
lists them too (tests/deploy/test_dataflow.py checks that it does).
"""
from __future__ import annotations

import os

from apache_beam.options.pipeline_options import PipelineOptions

DEFAULT_WAREHOUSE = "wiredesk.duckdb"
# How a local batch run uses more than one core: SDK worker processes. Threads share one GIL, and
# extraction is Python-bound (1.08x on 2 cores against 1.39x for processes, issue 14).
LOCAL_RUNNING_MODE = "multi_processing"
# Overrides the core count as the default number of local workers ("1": one process, as the test
# suite runs: starting worker processes costs each small run a few seconds).
WORKERS_ENV = "WIREDESK_DIRECT_NUM_WORKERS"

# dest: (flags, argparse keyword arguments). The first flag is the one to_argv writes.
OPTIONS = {
    "feeds": (("--feeds",), dict(
        action="append", default=None, metavar="FILE.yaml|URL",
        help="Feeds to read: a YAML feeds file or a feed URL; repeat for more. Besides RSS, Atom and JSON "
             "Feed, a feeds file lists sitemaps ({url: ..., type: sitemap}), sites whose robots.txt names "
             "their sitemaps ({site: https://outlet.example}), agency endpoints ({url: ..., format: "
             "ninjs|newsml-g2|newsml, headers: {X-Api-Key: {env: VAR}}}) and drop folders ({folder: "
             "DIR|gs://bucket/prefix, format: ...}); see docs/sources.md. (required)")),
    "warehouse": (("--warehouse",), dict(
        default=DEFAULT_WAREHOUSE, metavar="PATH.duckdb|bigquery:PROJECT.DATASET",
        help="Warehouse to write to: a DuckDB file (created if missing) or bigquery:PROJECT.DATASET. "
             "(default: %(default)s)")),
    "proxy": (("--proxy",), dict(
        default=None, metavar="URL",
        help="Send every fetch through this HTTP forward proxy; it resolves the names. (default: none)")),
    "allow_private_networks": (("--allow_private_networks", "--allow-private-networks"), dict(
        action="store_true", default=False,
        help="Allow fetches from private, loopback and link-local addresses (local demos and tests only). "
             "(default: off)")),
    "agency_registry": (("--agency_registry", "--agency-registry"), dict(
        default=None, metavar="FILE.yaml", help="Agency registry to tag with. (default: the bundled registry)")),
    "ignore_robots": (("--ignore_robots", "--ignore-robots"), dict(
        action="store_true", default=False,
        help="Do not read robots.txt (only for corpora you own). (default: off)")),
    "min_host_gap": (("--min_host_gap", "--min-host-gap"), dict(
        type=float, default=None, metavar="SECONDS",
        help="Minimum seconds between two requests to one host. (default: 0, or the host's robots.txt "
             "Crawl-delay up to 10 s)")),
    "feeds_per_slice": (("--feeds_per_slice", "--feeds-per-slice"), dict(
        type=int, default=None, metavar="N",
        help="A local batch run over more feeds runs as slices of N feeds, each written before the next "
             "starts, so memory stays bounded and a crash loses one slice; 0 runs all at once. "
             "(default: 100)")),
    # Streaming (with Beam's --streaming).
    "source": (("--source",), dict(
        choices=("poll", "pubsub"), default="poll",
        help="Where a --streaming run gets entries: 'poll' polls the feeds itself; 'pubsub' reads entries "
             "that `wiredesk poll --publish` publishes (needs --subscription). (default: %(default)s)")),
    "subscription": (("--subscription",), dict(
        default=None, metavar="projects/P/subscriptions/S",
        help="Pub/Sub subscription for --source pubsub. (default: none)")),
    "poll_interval": (("--poll_interval", "--poll-interval"), dict(
        default=None, metavar="DURATION",
        help="Poll every feed this often (90, 90s, 5m), overriding the feeds file's poll_interval; adapted "
             "within bounds while streaming. (default: the feeds file, else 5m)")),
    "duration": (("--duration",), dict(
        default=None, metavar="DURATION",
        help="Stop a --streaming run cleanly after this long (10m, 1h), flushing what it holds. "
             "(default: run until Ctrl-C)")),
    "max_polls": (("--max_polls", "--max-polls"), dict(
        type=int, default=None, metavar="N",
        help="Stop a --streaming run once every feed has been polled N times. (default: no limit)")),
}


def add_options(parser, names=None) -> None:
    """Declare wiredesk's options (all, or those named, in OPTIONS order) on an argparse parser."""
    for dest, (flags, kwargs) in OPTIONS.items():
        if names is None or dest in names:
            parser.add_argument(*flags, dest=dest, **kwargs)


def to_argv(args, names=None) -> list:
    """What argparse parsed for these options, as the command line PipelineOptions parses again."""
    argv = []
    for dest, (flags, kwargs) in OPTIONS.items():
        value = getattr(args, dest, None) if names is None or dest in names else None
        if value is None or value is False:
            continue
        if kwargs.get("action") == "store_true":
            argv.append(flags[0])
        elif kwargs.get("action") == "append":
            for item in value:
                argv += [flags[0], str(item)]
        else:
            argv += [flags[0], str(value)]
    return argv


def local_worker_args(argv: list, cpu_count: int | None = None) -> list:
    """Beam flags that make a local batch run on the FnApiRunner use every core, unless argv says otherwise.

    Nothing is added for a stream or for another runner. Without --direct_num_workers the run gets one
    worker per core (WORKERS_ENV, when set to a number, stands for the core count); more than one
    worker also gets LOCAL_RUNNING_MODE unless argv names a --direct_running_mode.
    `--direct_num_workers 1` runs in this process, as before.
    """
    runner = _flag_value(argv, "--runner") or ""
    if "--streaming" in argv or runner.rsplit(".", 1)[-1] != "FnApiRunner":
        return []
    extra = []
    given = _flag_value(argv, "--direct_num_workers")
    if given is None:
        from_env = os.environ.get(WORKERS_ENV, "")
        cores = int(from_env) if from_env.isdigit() else cpu_count if cpu_count is not None else os.cpu_count()
        workers = max(1, cores or 1)
        if workers > 1:
            extra += ["--direct_num_workers", str(workers)]
    else:
        workers = int(given) if given.isdigit() else 1
    if workers > 1 and _flag_value(argv, "--direct_running_mode") is None:
        extra += ["--direct_running_mode", LOCAL_RUNNING_MODE]
    return extra


def _flag_value(argv: list, flag: str) -> str | None:
    """The value argv gives `flag` (`--flag value` or `--flag=value`; the last one wins), else None."""
    found = None
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(flag + "="):
            found = arg.split("=", 1)[1]
    return found


class WiredeskOptions(PipelineOptions):
    """Options of a wiredesk run; every other flag is passed to Beam (runner, streaming, workers...)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        add_options(parser)
