"""The streaming story index at internet arrival rates: members, memory and ms per article.

    python benchmarks/story_index_scale.py [--articles 300000] [--per-day 1000000] [--quick]

Synthetic signed articles arrive at `--per-day` (event time advances 86,400 / per-day seconds an
article) into the real `AssignStories.process` of transforms/dedup/beam_streaming.py, with Beam's
state replaced by the in-memory stand-ins of tests/support/beam_state.py (so the state log and its
compaction are included). Signatures are MinHash-shaped: fresh stories draw 128 random values, and
30% of articles are copies of a story from the last 12 h with 15% of the values redrawn (Jaccard
about 0.74, so they join it). Signing itself is benchmarks/streaming_memory.py's business.

Within the 72 h horizon nothing expires, so the index grows by one member an article; the figures
per member (heap of the decoded index, bytes of its state record) scale to the horizon's
per-day x 3 members. The JSON and the last lines give that extrapolation and the verdict for one
n2-standard-2 worker (8 GB).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import rss_kb  # noqa: E402

WORKER_GB = 8.0  # n2-standard-2
WORKER_USABLE_GB = 6.0  # what is left for one key's index after the OS, the SDK harness and the JVM-side worker



class Arrivals:
    """Signed articles in arrival order: (article, member) pairs as SignForIndex emits them."""

    def __init__(self, per_day: float, seed: int = 7, copy_share: float = 0.3):
        import numpy as np

        self.np, self.rng = np, np.random.default_rng(seed)
        self.step = 86_400.0 / per_day
        self.copy_share = copy_share
        self.recent: list = []  # (ts, signature array, story number) of recent originals
        self.t0 = 1_767_225_600.0
        self.pick = random.Random(seed)

    def __call__(self, n: int):
        from schemas.types import Article
        from transforms.dedup.stories import Member
        from transforms.util.times import iso_of_ts

        ts = self.t0 + n * self.step
        while self.recent and self.recent[0][0] < ts - 12 * 3600:
            self.recent.pop(0)
        if self.recent and self.pick.random() < self.copy_share:
            _, origin, story = self.pick.choice(self.recent)
            signature = origin.copy()
            redrawn = self.rng.random(signature.size) < 0.15
            signature[redrawn] = self.rng.integers(0, 2**32, int(redrawn.sum()), dtype=self.np.uint32)
        else:
            signature = self.rng.integers(0, 2**32, 128, dtype=self.np.uint32)
            story = n
            self.recent.append((ts, signature, story))
        article_id = f"{n:032x}"
        agency = "Reuters" if story % 3 == 0 else None
        member = Member(article_id, ts, signature.tobytes(), self.pick.randint(300, 1200), agency, None, None)
        article = Article(article_id=article_id, url=f"http://outlet.example/{n}", published_at=iso_of_ts(ts),
                          content_hash=f"{self.pick.getrandbits(128):032x}", agency=agency)
        return article, member


def index_heap_per_member(log_items: list, dedup) -> float:
    """Bytes of heap a decoded index takes per member (tracemalloc over StoryIndex.from_records of a sample)."""
    from transforms.dedup.story_index import StoryIndex

    sample = log_items[-20_000:]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = StoryIndex.from_records(sample, dedup, prune_step_s=float("inf"))
    heap = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return heap / max(1, len(index.members))


def bucket_share(log_items: list, dedup) -> float:
    """The share of the index's heap its LSH buckets take (the same sample with 1 band instead of 32)."""
    import dataclasses

    one_band = index_heap_per_member(log_items, dataclasses.replace(dedup, bands=1))
    full = index_heap_per_member(log_items, dedup)
    return (full - one_band) * dedup.bands / (dedup.bands - 1) / full


def index_part(articles: int, per_day: float) -> dict:
    from schemas.settings import DedupSettings, Settings
    from tests.support.beam_state import Bag, Value
    from transforms.dedup.beam_streaming import INDEX_KEY, AssignStories

    dedup = DedupSettings()
    assigner = AssignStories(Settings(dedup=dedup))
    assigner.setup()
    arrivals = Arrivals(per_day)
    log, version = Bag(), Value()
    rss0 = rss_kb() / 1024
    checkpoints = sorted({articles // 10, articles // 2, articles})
    rows, copies, cpu_from, done_from = [], 0, time.process_time(), 0
    for n in range(1, articles + 1):
        for out in assigner.process((INDEX_KEY, arrivals(n)), log=log, version=version):
            copies += getattr(out.value, "duplicate_of", None) is not None
        if n in checkpoints:
            index = assigner._cache[INDEX_KEY][1]
            cpu = time.process_time()
            rows.append({"articles": n, "members": len(index.members), "state_records": len(log.items),
                         "rss_delta_mib": round(rss_kb() / 1024 - rss0, 1), "copies": copies,
                         "ms_per_article": round(1000 * (cpu - cpu_from) / (n - done_from), 3)})
            cpu_from, done_from = time.process_time(), n
    index = assigner._cache[INDEX_KEY][1]
    record_bytes = sum(len(r) for r in log.items[-20_000:]) / min(20_000, len(log.items))
    heap = index_heap_per_member(log.items, dedup)
    buckets = bucket_share(log.items, dedup)
    started = time.process_time()
    index.live_records()
    compaction_s = time.process_time() - started
    horizon_members = int(per_day * dedup.horizon_hours / 24)
    last = rows[-1]
    return {"per_day": per_day, "horizon_hours": dedup.horizon_hours, "checkpoints": rows,
            "heap_bytes_per_member": heap, "bucket_share": buckets, "record_bytes_per_member": record_bytes,
            "rss_bytes_per_member": last["rss_delta_mib"] * 2**20 / max(1, last["members"]),
            "compaction_s": compaction_s, "compaction_members": len(index.members),
            "horizon_members": horizon_members, "state_log_slack": dedup.state_log_slack}


def at_horizon(r: dict) -> dict:
    """The measured figures scaled to the horizon's members."""
    m = r["horizon_members"]
    heap_gb = m * r["heap_bytes_per_member"] / 1e9
    state_gb = m * r["record_bytes_per_member"] * r["state_log_slack"] / 1e9
    return {"members": m, "heap_gb": heap_gb, "state_gb": state_gb,
            "rebuild_gb": heap_gb + state_gb,  # a rebuild reads the whole log while building the index
            "compaction_s": r["compaction_s"] * m / max(1, r["compaction_members"]),
            "fits": heap_gb + state_gb <= WORKER_USABLE_GB}


def per_member_gb_bytes(r: dict) -> float:
    """Worker bytes one member needs while the index is rebuilt: its heap plus its share of the log."""
    return r["heap_bytes_per_member"] + r["record_bytes_per_member"] * r["state_log_slack"]


def members_per_day(r: dict) -> float:
    """The arrival rate whose horizon fills the usable memory of one worker."""
    return WORKER_USABLE_GB * 1e9 / per_member_gb_bytes(r) / (r["horizon_hours"] / 24)


def report_index(r: dict) -> list:
    lines = [f"story index at {r['per_day']:,.0f} articles/day, {r['horizon_hours']:g} h horizon:"]
    for c in r["checkpoints"]:
        lines.append(f"  {c['articles']:>9,} articles: {c['members']:,} members, {c['state_records']:,} state records, "
                     f"RSS +{c['rss_delta_mib']:,.0f} MiB, {c['ms_per_article']:.3f} ms CPU per article, "
                     f"{c['copies']:,} copies joined a story")
    h = at_horizon(r)
    lines += [
        f"per member: heap {r['heap_bytes_per_member']:,.0f} B (decoded index; LSH buckets "
        f"{r['bucket_share']:.0%} of it), RSS {r['rss_bytes_per_member']:,.0f} B "
        f"(index + state log stand-in), state record {r['record_bytes_per_member']:,.0f} B; rewriting "
        f"{r['compaction_members']:,} live records {r['compaction_s']:.2f} s",
        f"at the horizon: {h['members']:,} members under one key: heap {h['heap_gb']:.1f} GB, state log up to "
        f"{h['state_gb']:.1f} GB (x{r['state_log_slack']}), a rebuild holds both ({h['rebuild_gb']:.1f} GB); "
        f"one compaction {h['compaction_s']:.0f} s",
        f"single-key index fits one n2-standard-2 worker ({WORKER_GB:g} GB, {WORKER_USABLE_GB:g} GB usable): "
        f"{'yes' if h['fits'] else 'NO'}; members one worker holds: "
        f"{WORKER_USABLE_GB * 1e9 / per_member_gb_bytes(r):,.0f} = {members_per_day(r):,.0f} articles/day",
    ]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300_000)
    parser.add_argument("--per-day", type=float, default=1_000_000.0)
    parser.add_argument("--quick", action="store_true", help="20,000 articles")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = index_part(20_000 if args.quick else args.articles, args.per_day)
    print("\n".join(report_index(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
