"""Throughput benchmark: the whole pipeline against a bare fetch + trafilatura loop, on 1 and 2 workers.

    python benchmarks/throughput.py [--quick] [--split DIR] [--modes multi_threading,multi_processing]
                                    [--profile OUT.txt] [--json OUT]

The dev syndication split is served by a local CorpusServer used as a forward proxy. The pipeline is
`pipeline.run.run_pipeline` on the FnApiRunner into a fresh DuckDB file (as benchmarks/syndication.py
runs it), timed from build to finish, start-up included. The baseline, in the same run, fetches the
same feeds and pages through the same proxy with urllib3 and runs bare `trafilatura.extract` on each
page; on 2 workers the baseline splits the pages over 2 processes. pages/s = pages fetched / wall s.
`--profile` runs the per-page work (decode, extract_page, page_signals, clean, tag) under cProfile
and writes the top functions by cumulative time.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import SYNDICATION_DEV, peak_rss_mb  # noqa: E402

QUICK_FEEDS = 2


def feed_files(split_dir: Path, limit: int | None) -> list:
    index = json.loads((Path(split_dir) / "feeds" / "index.json").read_text(encoding="utf-8"))
    return [f["feed_url"] for f in index][:limit]


# ---------------------------------------------------------------------------------------- baseline
def _bare_pages(proxy_url: str, urls: list) -> int:
    import trafilatura
    import urllib3

    http = urllib3.ProxyManager(proxy_url, maxsize=4, retries=False)
    done = 0
    for url in urls:
        response = http.request("GET", url, preload_content=True)
        if response.status == 200:
            trafilatura.extract(response.data, url=url)
            done += 1
    return done


def bare_loop(proxy_url: str, feeds: list, workers: int) -> dict:
    """Fetch the feeds, then every linked page, and extract each with bare trafilatura."""
    import feedparser
    import urllib3

    started = time.perf_counter()
    http = urllib3.ProxyManager(proxy_url, retries=False)
    links = []
    for feed in feeds:
        parsed = feedparser.parse(http.request("GET", feed).data)
        links.extend(e.get("link") for e in parsed.entries if e.get("link"))
    links = list(dict.fromkeys(links))
    if workers == 1:
        pages = _bare_pages(proxy_url, links)
    else:
        chunks = [links[i::workers] for i in range(workers)]
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            pages = sum(pool.starmap(_bare_pages, [(proxy_url, c) for c in chunks]))
    elapsed = time.perf_counter() - started
    return {"pages": pages, "elapsed_s": elapsed, "pages_per_s": pages / elapsed}


# ---------------------------------------------------------------------------------------- pipeline
def pipeline_run(split_dir: Path, proxy_url: str, feed_limit: int | None, workers: int, mode: str | None) -> dict:
    from benchmarks.syndication import run_split

    extra = ["--runner", "FnApiRunner", "--direct_num_workers", str(workers)]
    if mode:
        extra += ["--direct_running_mode", mode]
    with tempfile.TemporaryDirectory(prefix="wiredesk-tput-") as tmp:
        started = time.perf_counter()
        outcome = run_split(split_dir, Path(tmp) / "w.duckdb", proxy_url, Path(tmp), extra, feed_limit=feed_limit)
        elapsed = time.perf_counter() - started
    pages = outcome["counters"].get("fetch.pages", 0)
    return {"pages": pages, "elapsed_s": elapsed, "pages_per_s": pages / elapsed,
            "articles": outcome["counters"].get("write.articles", outcome["counters"].get("dedup.articles"))}


# ---------------------------------------------------------------------------------------- profile
def profile_stages(split_dir: Path, out: Path, limit: int | None) -> str:
    """cProfile of the per-page work outside Beam, to find what costs more than it must."""
    import cProfile
    import pstats

    from transforms.clean.cleaning import clean_lines
    from transforms.extract.decode import decode_html
    from transforms.extract.page import extract_page
    from transforms.extract.signals import page_signals
    from transforms.tag.registry import AgencyRegistry, load_registry_data
    from transforms.tag.rules import tag_agency

    registry = AgencyRegistry.from_data(load_registry_data(None))
    labels = [json.loads(line) for line in (Path(split_dir) / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()][:limit]
    raws = [(label["url"], (Path(split_dir) / label["path"]).read_bytes()) for label in labels]
    timings = {"decode": 0.0, "extract_page": 0.0, "page_signals": 0.0, "clean": 0.0, "tag": 0.0}

    def work():
        for url, raw in raws:
            t0 = time.perf_counter()
            html = decode_html(raw, "utf-8", "text/html")
            t1 = time.perf_counter()
            meta = extract_page(html, url)
            t2 = time.perf_counter()
            signals = page_signals(html)
            t3 = time.perf_counter()
            kept, removed = clean_lines(meta.raw_lines)
            t4 = time.perf_counter()
            tag_agency(meta.raw_lines, removed, signals._asdict(), registry)
            t5 = time.perf_counter()
            for key, dt in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                timings[key] += dt

    work()  # warm-up and plain timings
    plain = dict(timings)
    profiler = cProfile.Profile()
    profiler.runcall(work)
    with open(out, "w", encoding="utf-8") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("cumulative").print_stats(40)
    n = len(raws)
    return "per-page stage cost (ms/page, no profiler): " + ", ".join(
        f"{k} {1000 * v / n:.1f}" for k, v in plain.items()) + f"; cProfile written to {out}"


def main(argv=None) -> int:
    from pipeline.corpus_server import CorpusServer
    from tests.support.corpus import syndication_routes

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", type=Path, default=SYNDICATION_DEV)
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK_FEEDS} feeds, 1 worker (CI)")
    parser.add_argument("--modes", default="multi_threading,multi_processing",
                        help="direct_running_mode values to try on 2 workers")
    parser.add_argument("--profile", type=Path, help="also profile the per-page stages into this file")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    limit = QUICK_FEEDS if args.quick else None
    results = {}
    lines = []
    with CorpusServer(syndication_routes(args.split)) as server:
        feeds = feed_files(args.split, limit)
        # Warm the OS cache and imports once so neither side pays them alone.
        bare_loop(server.url, feeds[:1], 1)
        runs = [("1 worker", 1, None)]
        if not args.quick:
            runs += [(f"2 workers {mode}", 2, mode) for mode in args.modes.split(",") if mode]
        for label, workers, mode in runs:
            bare = bare_loop(server.url, feeds, workers)
            try:
                pipe = pipeline_run(args.split, server.url, limit, workers, mode)
            except Exception as exc:  # noqa: BLE001 - a running mode that does not work is a finding
                pipe = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
            results[label] = {"bare": bare, "pipeline": pipe}
            if "error" in pipe:
                lines.append(f"{label:30s} pipeline FAILED ({pipe['error']}); bare {bare['pages_per_s']:.1f} pages/s")
                continue
            ratio = pipe["pages_per_s"] / bare["pages_per_s"]
            results[label]["ratio"] = ratio
            lines.append(f"{label:30s} pipeline {pipe['pages']} pages in {pipe['elapsed_s']:.1f}s = "
                         f"{pipe['pages_per_s']:.1f} pages/s | bare fetch+trafilatura {bare['pages']} pages in "
                         f"{bare['elapsed_s']:.1f}s = {bare['pages_per_s']:.1f} pages/s | ratio {ratio:.2f}")
    print(f"throughput over {args.split.name} ({len(feeds)} feeds), FnApiRunner, wall time including start-up:")
    print("\n".join(lines))
    one = results.get("1 worker", {})
    if "ratio" in one:
        print(f"target pipeline/bare >= 0.8 on 1 worker: {'met' if one['ratio'] >= 0.8 else 'NOT met'} "
              f"({one['ratio']:.2f})")
    for label, r in results.items():
        if label != "1 worker" and "ratio" in r and "ratio" in one:
            scale = r["pipeline"]["pages_per_s"] / one["pipeline"]["pages_per_s"]
            bare_scale = r["bare"]["pages_per_s"] / one["bare"]["pages_per_s"]
            print(f"scaling {label}: pipeline {scale:.2f}x one worker (target >= 1.6: "
                  f"{'met' if scale >= 1.6 else 'NOT met'}); bare loop {bare_scale:.2f}x; "
                  f"ratio to bare {r['ratio']:.2f}")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    if args.profile:
        print(profile_stages(args.split, args.profile, 60 if args.quick else None))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
