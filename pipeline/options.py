"""WiredeskOptions: the pipeline's own options, parsed alongside Beam's."""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

DEFAULT_WAREHOUSE = "wiredesk.duckdb"


class WiredeskOptions(PipelineOptions):
    """Options of a wiredesk run; every other flag is passed to Beam (runner, streaming, workers...)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--feeds", action="append", default=None, metavar="FILE.yaml|URL",
                            help="Feeds to read: a YAML feeds file or a feed URL; repeat for more. (required)")
        parser.add_argument("--warehouse", default=DEFAULT_WAREHOUSE, metavar="PATH.duckdb",
                            help="DuckDB file to write to; created if missing. (default: %(default)s)")
        parser.add_argument("--proxy", default=None, metavar="URL",
                            help="Send every fetch through this HTTP forward proxy; it resolves the names. "
                                 "(default: none)")
        parser.add_argument("--allow_private_networks", "--allow-private-networks", dest="allow_private_networks",
                            action="store_true", default=False,
                            help="Allow fetches from private, loopback and link-local addresses "
                                 "(local demos and tests only). (default: off)")
        parser.add_argument("--agency_registry", "--agency-registry", dest="agency_registry", default=None,
                            metavar="FILE.yaml",
                            help="Agency registry to tag with. (default: the bundled registry)")
        parser.add_argument("--ignore_robots", "--ignore-robots", dest="ignore_robots", action="store_true",
                            default=False,
                            help="Do not read robots.txt (only for corpora you own). (default: off)")
        parser.add_argument("--min_host_gap", "--min-host-gap", dest="min_host_gap", type=float, default=None,
                            metavar="SECONDS",
                            help="Minimum seconds between two requests to one host. (default: 0, or the "
                                 "host's robots.txt Crawl-delay up to 10 s)")
        # Streaming (with Beam's --streaming).
        parser.add_argument("--source", choices=("poll", "pubsub"), default="poll",
                            help="Where a --streaming run gets entries: 'poll' polls the feeds itself; "
                                 "'pubsub' reads entries that `wiredesk poll --publish` publishes "
                                 "(needs --subscription). (default: %(default)s)")
        parser.add_argument("--subscription", default=None, metavar="projects/P/subscriptions/S",
                            help="Pub/Sub subscription for --source pubsub. (default: none)")
        parser.add_argument("--poll_interval", "--poll-interval", dest="poll_interval", default=None,
                            metavar="DURATION",
                            help="Poll every feed this often (90, 90s, 5m), overriding the feeds file's "
                                 "poll_interval; adapted within bounds while streaming. (default: the feeds "
                                 "file, else 5m)")
        parser.add_argument("--duration", default=None, metavar="DURATION",
                            help="Stop a --streaming run cleanly after this long (10m, 1h), flushing what it "
                                 "holds. (default: run until Ctrl-C)")
        parser.add_argument("--max_polls", "--max-polls", dest="max_polls", type=int, default=None, metavar="N",
                            help="Stop a --streaming run once every feed has been polled N times. "
                                 "(default: no limit)")
