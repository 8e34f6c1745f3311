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
