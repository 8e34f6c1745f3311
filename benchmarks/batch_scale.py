"""A local batch run's wall time and peak memory as its size grows: N simulated pages through `wiredesk run`.

    python benchmarks/batch_scale.py [--pages 1000,10000] [--feeds-per-slice N] [--quick] [--json OUT] [BEAM ARGS]

For each size, benchmarks/simweb.py serves N/20 feeds of 20 entries, one feed per host, whose pages
are news-shaped HTML of 60-100 KB. The whole pipeline (`pipeline.run.run_pipeline`, the default
in-process FnApiRunner) runs in a child process into a fresh DuckDB file. The child samples its own
RSS and the run's live counters (pipeline/progress.py) every second, so the report shows which
stage was running while memory grew, and prints its exact peak (ru_maxrss) at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import rss_kb  # noqa: E402
from benchmarks.simweb import Shape, SimWeb, feed_url  # noqa: E402

ITEMS = 20



def child(argv: list) -> None:
    """Run the pipeline here; print one JSON line: elapsed, counters, peak RSS and the RSS/progress samples."""
    from pipeline import progress
    from pipeline.run import run_pipeline

    samples, stop, started = [], threading.Event(), time.monotonic()

    def sample():
        while not stop.wait(1.0):
            samples.append([round(time.monotonic() - started, 1), round(rss_kb() / 1024),
                            progress.headline(progress.snapshot())])

    threading.Thread(target=sample, daemon=True).start()
    outcome = run_pipeline(argv)
    stop.set()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # A local run's SDK worker processes (one per core by default) hold the rows and do the work.
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"elapsed_s": outcome["elapsed_s"], "counters": outcome["counters"], "samples": samples,
                      "peak_rss_mib": max(usage.ru_maxrss, workers.ru_maxrss) / 1024,
                      "cpu_s": usage.ru_utime + usage.ru_stime + workers.ru_utime + workers.ru_stime}))


def one_run(pages: int, sentences: list, workdir: Path, extra: tuple = ()) -> dict:
    import yaml

    feeds = max(1, pages // ITEMS)
    shape = Shape(hosts=feeds, feeds=feeds, items_per_feed=ITEMS, changing_share=0.0, fail_share=0.0,
                  slow_share=0.0, hang_share=0.0, base_ms=1.0)
    feeds_file = workdir / f"feeds-{pages}.yaml"
    feeds_file.write_text(yaml.safe_dump([{"url": feed_url(shape, i)} for i in range(feeds)]), encoding="utf-8")
    warehouse = workdir / f"batch-{pages}.duckdb"
    with SimWeb(shape, sentences) as web:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, __file__, "--child", "--feeds", str(feeds_file), "--warehouse",
                               str(warehouse), "--proxy", web.url, "--progress", "off", *extra],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"batch run of {pages} pages failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    counters = result["counters"]
    articles = counters.get("write.articles.inserted", 0)
    return {"pages": pages, "feeds": feeds, "wall_s": wall, "pipeline_s": result["elapsed_s"],
            "peak_rss_mib": result["peak_rss_mib"], "cpu_s": result.get("cpu_s", 0.0),
            "fetched": counters.get("fetch.pages", 0), "articles": articles,
            "duckdb_bytes": warehouse.stat().st_size, "samples": result["samples"],
            "growth": growth(result["samples"])}


def growth(samples: list) -> list:
    """Where RSS rose: (seconds, RSS MiB, pages fetched, articles written) at each new high of 10% or more."""
    out, high = [], 0.0
    for t, rss, numbers in samples:
        if rss >= high * 1.1:
            out.append((t, rss, numbers["pages_fetched"], numbers["articles_written"]))
            high = rss
    return out


def batch_part(sizes: list, sentences: list, extra: tuple = ()) -> dict:
    runs = []
    with tempfile.TemporaryDirectory(prefix="wiredesk-batchscale-") as tmp:
        for pages in sizes:
            runs.append(one_run(pages, sentences, Path(tmp), extra))
            print(report_one(runs[-1]), flush=True)
    return {"runs": runs}


def report_one(r: dict) -> str:
    path = ", ".join(f"{t:.0f}s {rss} MiB (fetched {f}, written {w})" for t, rss, f, w in r["growth"][-4:])
    return (f"batch {r['pages']:,} pages ({r['feeds']:,} feeds): {r['pipeline_s']:.0f} s "
            f"({r['fetched'] / max(r['pipeline_s'], 1e-9):.1f} pages/s, "
            f"{1000 * r['cpu_s'] / max(1, r['fetched']):.0f} ms "
            f"CPU per page, start-up included), peak RSS {r['peak_rss_mib']:,.0f} MiB (largest process), "
            f"{r['articles']:,} articles, DuckDB {r['duckdb_bytes'] / max(1, r['articles']):,.0f} B/article; "
            f"RSS rose at: {path}")


def report_batch(b: dict) -> list:
    runs, lines = b["runs"], []  # each run's own line was printed when it finished
    if len(runs) >= 2:
        a, z = runs[0], runs[-1]
        slope = (z["peak_rss_mib"] - a["peak_rss_mib"]) * 1024 / max(1, z["pages"] - a["pages"])
        lines.append(f"batch memory grows {slope:,.1f} KiB per page from {a['pages']:,} to {z['pages']:,} pages; "
                     f"time {z['pipeline_s'] / a['pipeline_s']:.1f}x for {z['pages'] / a['pages']:.0f}x the pages")
    return lines


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1:])
        return 0
    from benchmarks.internet_scale import sentences

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="1000,10000", help="comma-separated run sizes")
    parser.add_argument("--quick", action="store_true", help="one run of 100 pages")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--feeds-per-slice", type=int, default=None,
                        help="passed to wiredesk run (0: the whole run at once; default: the run's own)")
    args, beam_args = parser.parse_known_args(argv)
    sizes = [100] if args.quick else [int(n) for n in args.pages.split(",") if n]
    extra = (*beam_args, *(["--feeds_per_slice", str(args.feeds_per_slice)] if args.feeds_per_slice is not None
                           else []))
    result = batch_part(sizes, sentences(), extra)
    print("\n".join(report_batch(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
