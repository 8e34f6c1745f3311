"""Every limit and politeness setting of wiredesk, with its default and its reason."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import metadata


def _version() -> str:
    """The installed wiredesk's version (setup.py is the one place it is written)."""
    try:
        return metadata.version("wiredesk")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+source"


VERSION = _version()


@dataclass(frozen=True)
class FetchLimits:
    """Caps and politeness rules for every HTTP request wiredesk makes."""

    # Articles above a few MB are galleries or PDFs, not news; reading them wastes memory.
    max_body_bytes: int = 5 * 1024 * 1024
    # Applied after gzip/deflate/brotli decoding, so a small bomb cannot expand past it.
    max_decoded_bytes: int = 8 * 1024 * 1024
    # Feeds of real outlets stay far below this; larger ones are usually archives.
    max_feed_bytes: int = 10 * 1024 * 1024
    # Stacked Content-Encodings a response may use; more is an attack on the decoder.
    max_content_codings: int = 5
    # Browsers allow 20; news sites rarely need more than 3 (http->https->www->amp).
    max_redirects: int = 5
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    # A server trickling one byte a second must not hold a worker for minutes.
    total_deadline_s: float = 45.0
    # Retries cover 429, 5xx and truncated bodies; anything else is final.
    max_retries: int = 3
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    # Retry-After above this is treated as "come back in another run".
    max_retry_after_s: float = 60.0
    # Gap between two requests to the same host, our own politeness floor.
    min_host_gap_s: float = 0.0
    # robots.txt Crawl-delay is honoured up to this many seconds.
    max_crawl_delay_s: float = 10.0
    # robots.txt larger than this is cut (Google reads 500 KiB).
    max_robots_bytes: int = 512 * 1024
    # After this many consecutive failures a host is skipped for the rest of the run.
    circuit_breaker_failures: int = 5
    # Links longer than this are junk or attacks.
    max_url_length: int = 2048
    user_agent: str = f"wiredesk/{VERSION} (+https://github.com/wiredesk/wiredesk)"
    allow_private_networks: bool = False
    proxy: str | None = None
    respect_robots: bool = True


@dataclass(frozen=True)
class DedupSettings:
    """Parameters of URL, exact-text and near-duplicate story detection."""

    num_perm: int = 128
    # 32 bands x 4 rows: a pair shares a band (becomes a candidate) with probability 1-(1-J^4)^32:
    # 56% at Jaccard 0.4, 87% at 0.5, 99% at 0.6. Containment-only copies (short excerpts) rely on
    # the exact hash or on sharing a band.
    bands: int = 32
    shingle_words: int = 4
    # Candidates are verified on this estimated similarity (max of Jaccard and containment).
    threshold: float = 0.5
    # Event-time horizon after which a story stops accepting copies (streaming state TTL).
    horizon_hours: float = 72.0
    # A stream's story index starts from the stored story_index rows within one horizon of the
    # newest stored article; this caps how many (the newest), so a burst cannot blow up start-up.
    seed_max_articles: int = 200_000
    # The streaming story index keeps a member at least this many arrivals, even past the horizon:
    # a backfill that arrives out of order (old and new articles mixed) still finds its copies.
    min_keep_arrivals: int = 20_000
    # Streaming state logs (story index, links seen) are rewritten to their live entries once they
    # hold more than this many records per live entry (plus 256): memory peaks at about this x live.
    state_log_slack: float = 1.5


@dataclass(frozen=True)
class WarehouseSettings:
    """Batching of warehouse writes."""

    batch_rows: int = 500
    batch_seconds: float = 5.0
    # DuckDB allows one writing process; wait this long for another to let go.
    lock_wait_s: float = 30.0
    # A local batch run over more feeds than this runs as successive slices of this many feeds, each
    # written before the next starts: the local runner holds a run's rows in memory until its
    # dedup and write steps (about 120 KB a page, benchmarks/batch_scale.py), so one long run grew
    # to 5.7 GB at 50k pages and a crash near its end lost everything. Later slices join earlier
    # slices' stories through the stored story index, as a rerun does. 0 runs everything at once.
    feeds_per_slice: int = 100


@dataclass(frozen=True)
class StreamSettings:
    """Polling cadence and micro-batching of a streaming run (--streaming)."""

    # A feed without poll_interval (feeds file) or --poll-interval is polled this often.
    default_poll_interval_s: float = 300.0
    # Adaptive polling never goes faster than this (nor faster than the configured interval when
    # that is shorter): polling a news feed more than once a minute buys nothing but load.
    min_poll_interval_s: float = 60.0
    # ...and never slower than this, nor than 8x the configured interval: a quiet feed still
    # gets read every few hours.
    max_poll_interval_s: float = 6 * 3600.0
    # Unchanged (304 / no new entries): interval x this; new entries: interval / this.
    adapt_factor: float = 1.5
    # Failures: the configured interval x 2**failures, capped by max_poll_interval_s.
    failure_backoff_base: float = 2.0
    # The source wakes at least this often to notice Ctrl-C, --duration and due feeds.
    max_sleep_s: float = 1.0
    # Feeds the local live source polls at once (never two of one host): one slow feed does not
    # hold up the others, nor the heartbeat the local runner needs every 30 s.
    poll_workers: int = 4
    # Fixed windows (seconds) for the shuffles after the source (links, hosts).
    window_s: float = 5.0
    # The poller remembers this many entry ids per feed (a feed lists its latest items only).
    max_seen_per_feed: int = 5000


@dataclass(frozen=True)
class PaywallSettings:
    """When a cleaned body counts as a teaser (the `truncated` flag)."""

    # Body words below this share of the JSON-LD wordCount: the page holds part of the article.
    # Our cleaning drops captions and credit lines that some CMSs count, so full texts land well
    # above it (see tests/transforms/extract/test_paywall.py).
    teaser_ratio: float = 0.5
    # A declared wordCount this small is too rough to compare with.
    min_declared_words: int = 100
    # A call to subscribe counts only within the body's last characters: a teaser ends with it.
    prompt_tail_chars: int = 300
    # A page that declares itself paywalled and whose body is this short holds only the teaser.
    paywalled_short_words: int = 150


@dataclass(frozen=True)
class SourceSettings:
    """Bounds on sitemaps and agency deliveries, the inputs besides feeds."""

    # The sitemap protocol caps a file at 50 MB uncompressed and 50,000 URLs; more is not a sitemap.
    max_sitemap_bytes: int = 50 * 1024 * 1024
    max_sitemap_urls: int = 50_000
    # Index -> index -> urlset is as deep as real sites go; deeper nesting is a loop or a trap.
    max_sitemap_depth: int = 3
    # Sitemaps (indexes included) one source may download per poll: a news sitemap index lists a
    # few; an archive index listing thousands would otherwise fetch a whole site's history.
    max_sitemaps_per_poll: int = 50
    # One delivery (an endpoint's answer or a dropped file) of agency items.
    max_delivery_bytes: int = 20 * 1024 * 1024
    max_items_per_delivery: int = 1000
    # A drop folder is matched again this often in a streaming run.
    folder_poll_interval_s: float = 60.0


@dataclass(frozen=True)
class Settings:
    """The one config object passed to every transform."""

    fetch: FetchLimits = field(default_factory=FetchLimits)
    dedup: DedupSettings = field(default_factory=DedupSettings)
    warehouse: WarehouseSettings = field(default_factory=WarehouseSettings)
    stream: StreamSettings = field(default_factory=StreamSettings)
    paywall: PaywallSettings = field(default_factory=PaywallSettings)
    sources: SourceSettings = field(default_factory=SourceSettings)
    # Body text shorter than this is not an article (cookie walls, empty shells).
    min_body_words: int = 30
    pipeline_version: str = VERSION

    def replace(self, **changes) -> "Settings":
        """Return a copy with top-level fields changed."""
        return dataclasses.replace(self, **changes)

    def with_fetch(self, **changes) -> "Settings":
        """Return a copy with fetch limits changed."""
        return dataclasses.replace(self, fetch=dataclasses.replace(self.fetch, **changes))
