"""Streaming dedup memory: stream synthetic articles through the story index and watch RSS stay flat.

    python benchmarks/streaming_memory.py [--articles 200000] [--per-hour 600] [--quick]

Articles are built from real sentences of the syndication corpus (300-1200 words, like news
bodies); about 30% are syndicated copies of an earlier story (trimmed, re-datelined, a few words
changed) published 0-12 h after it. Event time advances `--per-hour` articles per hour, so the
72 h horizon is reached after 72 x per-hour articles; after that the index should hold a steady
number of members and the process a steady RSS.

The stage is the real one: `SignForIndex` and `AssignStories.process` of
transforms/dedup/beam_streaming.py, with Beam's bag and value state replaced by the in-memory
stand-ins of tests/support/beam_state.py that keep every record they are given (as a runner's state would), so the figure includes the
state log and its compaction. Prints RSS (current and the peak within each interval) at the
checkpoints, the index size, and articles/s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import rss_kb  # noqa: E402
from tests.support.beam_state import Bag, Value  # noqa: E402 - the repo is on sys.path now

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "syndication" / "dev" / "labels.jsonl"



def sentences(corpus: Path) -> list:
    out = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        if line.strip():
            body = json.loads(line).get("body") or ""
            out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.split()) >= 6)
    return sorted(set(out))


class Generator:
    """Synthetic articles: fresh stories and syndicated copies, in event-time order with jitter."""

    def __init__(self, pool: list, per_hour: float, dup_share: float, seed: int = 7):
        self.rng = random.Random(seed)
        self.pool = pool
        self.per_hour = per_hour
        self.dup_share = dup_share
        self.recent = []  # (ts, body) of recent originals
        self.t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()

    def body(self) -> str:
        words, parts = self.rng.randint(300, 1200), []
        count = 0
        while count < words:
            s = self.rng.choice(self.pool)
            parts.append(s)
            count += len(s.split())
        text = " ".join(parts)
        # A unique number or two, as real stories have, so two fresh stories never coincide.
        return f"{text} Figures: {self.rng.randint(1, 10**9)} and {self.rng.randint(1, 10**9)}."

    def copy(self, body: str) -> str:
        words = body.split()
        cut = self.rng.randint(int(len(words) * 0.7), len(words))
        words = words[:cut]
        for _ in range(self.rng.randint(0, 5)):
            words[self.rng.randrange(len(words))] = self.rng.choice(("said", "told", "reported", "the"))
        return "NEW DELHI (IANS) — " + " ".join(words)

    def article(self, n: int):
        from schemas.types import Article

        ts = self.t0 + n * 3600.0 / self.per_hour + self.rng.uniform(-600, 600)
        while self.recent and self.recent[0][0] < ts - 12 * 3600:
            self.recent.pop(0)  # outlets pick up a wire story within about 12 hours
        if self.recent and self.rng.random() < self.dup_share:
            _, origin = self.rng.choice(self.recent)
            body = self.copy(origin)
        else:
            body = self.body()
            self.recent.append((ts, body))
        published = dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat()
        return Article(article_id=f"a{n:09d}", url=f"http://x.example/{n}", body=body, published_at=published,
                       agency="IANS" if body.startswith("NEW DELHI") else None)


_SIGNER = None


def _sign(article):
    """Signing is stateless and runs in parallel before the single index key (as on a runner)."""
    global _SIGNER
    if _SIGNER is None:
        from transforms.dedup.beam_streaming import SignForIndex

        _SIGNER = SignForIndex(_DEDUP)
        _SIGNER.setup()
    return next(iter(_SIGNER.process(article))).value


_DEDUP = None


def main(argv=None) -> int:
    from schemas.settings import DedupSettings, Settings
    from transforms.dedup.beam_streaming import AssignStories

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--per-hour", type=float, default=600.0, help="articles per hour of event time")
    parser.add_argument("--horizon-hours", type=float, default=DedupSettings.horizon_hours)
    parser.add_argument("--dup-share", type=float, default=0.3)
    parser.add_argument("--min-keep-arrivals", type=int, default=DedupSettings.min_keep_arrivals,
                        help="the index's arrival floor (members stay at least this many arrivals)")
    parser.add_argument("--quick", action="store_true",
                        help="20,000 articles with a 6 h horizon (the same shape, for CI)")
    parser.add_argument("--workers", type=int, default=2, help="processes that sign articles")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.articles, args.horizon_hours = 20_000, 6.0
        args.min_keep_arrivals = min(args.min_keep_arrivals, 1_000)
    checkpoints = sorted({args.articles // 4, args.articles // 2, args.articles})
    settings = Settings(dedup=DedupSettings(horizon_hours=args.horizon_hours, min_keep_arrivals=args.min_keep_arrivals))
    horizon_at = int(args.horizon_hours * args.per_hour)

    global _DEDUP
    _DEDUP = settings.dedup
    gen = Generator(sentences(DEFAULT_CORPUS), args.per_hour, args.dup_share)
    assigner = AssignStories(settings)
    assigner.setup()
    import multiprocessing

    pool = multiprocessing.get_context("fork").Pool(args.workers)

    def signed_articles(chunk: int = 256):
        # Chunked, so the generator never runs ahead of the index (imap would queue everything).
        for first in range(1, args.articles + 1, chunk):
            batch = [gen.article(n) for n in range(first, min(first + chunk, args.articles + 1))]
            yield from pool.map(_sign, batch, chunksize=32)

    signed = signed_articles()
    log, version = Bag(), Value()
    start_rss, started = rss_kb(), time.monotonic()
    interval_peak, copies, rows = 0, 0, []
    print(f"horizon {args.horizon_hours:g} h = about {horizon_at} articles at {args.per_hour:g}/h; "
          f"arrival floor {args.min_keep_arrivals}; start RSS {start_rss / 1024:.0f} MiB")
    for n, keyed in enumerate(signed, start=1):
        for out in assigner.process(keyed, log=log, version=version):
            if hasattr(out.value, "duplicate_of"):  # the article, not its story_index row
                copies += out.value.duplicate_of is not None
        if n % 500 == 0:
            interval_peak = max(interval_peak, rss_kb())
        if n in checkpoints:
            index = assigner._cache["stories"][1]
            row = {"articles": n, "rss_mib": round(rss_kb() / 1024, 1), "interval_peak_mib": round(interval_peak / 1024, 1),
                   "index_members": len(index.members), "state_records": len(log.items), "copies": copies,
                   "articles_per_s": round(n / (time.monotonic() - started), 1)}
            rows.append(row)
            interval_peak = 0
            print(f"{n:>8} articles: RSS {row['rss_mib']:7.1f} MiB (peak in interval {row['interval_peak_mib']:7.1f}), "
                  f"index {row['index_members']} members, state log {row['state_records']} records, "
                  f"{copies} copies joined a story, {row['articles_per_s']} articles/s")
    pool.close()
    after = [r for r in rows if r["articles"] >= horizon_at]
    if len(after) >= 2:
        peaks = [r["interval_peak_mib"] for r in after]
        spread = (max(peaks) - min(peaks)) / min(peaks)
        print(f"after the horizon: interval peak RSS {min(peaks):.1f}..{max(peaks):.1f} MiB, "
              f"spread {spread:.1%} ({'flat' if spread <= 0.20 else 'NOT flat'} within 20%)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
