"""Throughput benchmark: the whole pipeline against a bare fetch + trafilatura loop, on 1 and 2 workers.

    python benchmarks/throughput.py [--quick] [--split DIR] [--no-real] [--modes multi_threading]
                                    [--copies N] [--profile OUT.txt] [--json OUT]

Two page sets, each served by a local CorpusServer used as a forward proxy: the dev syndication split
(its own feeds) and the real pages of the corpus (news/ and aeb/, 414 pages, listed in RSS feeds of
40 items made here). The pipeline is `pipeline.run.run_pipeline` on the FnApiRunner into a fresh
DuckDB file, timed from build to finish, start-up included: on 1 worker (`--direct_num_workers 1`, in
this process) and on 2 workers as a local run gets them by default (options.local_worker_args:
worker processes), plus any `--modes` named. The baseline, in the same run, fetches the same feeds
and pages through the same proxy with urllib3 and runs bare `trafilatura.extract` on each page; on
2 workers it splits the pages over 2 processes. pages/s = pages fetched / wall s.
`--profile` prints each pipeline run's fused stages with their wall time (the FnApiRunner runs one
stage at a time, so they and the time outside them add up to the run), then runs the per-page work
(decode, read_page, clean, tag) under cProfile beside bare `trafilatura.extract` on the same pages
and writes the top functions by cumulative and own time. `--copies N` serves each set N times over,
each copy on hosts of its own, for a run long enough that start-up and the serial steps weigh less.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import json
import multiprocessing
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import AEB_DIR, NEWS_DIR, SYNDICATION_DEV, peak_rss_mb  # noqa: E402

QUICK_FEEDS = 2
REAL_FEED_ITEMS = 40
REAL_FEEDS_HOST = "http://feeds.real.example"


def feed_files(split_dir: Path, limit: int | None) -> list:
    index = json.loads((Path(split_dir) / "feeds" / "index.json").read_text(encoding="utf-8"))
    return [f["feed_url"] for f in index][:limit]


# ------------------------------------------------------------------------------------- page sets
def syndication_set(split_dir: Path, limit: int | None) -> tuple:
    from tests.support.corpus import syndication_routes

    return syndication_routes(split_dir), feed_files(split_dir, limit)


def real_pages() -> list:
    """(url, html bytes) of every real page: news/ (its own folder only) and aeb/."""
    pages = []
    with open(NEWS_DIR / "manifest.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row["path"].startswith(".."):  # the aeb/ pages news/ lists are read from aeb/ below
                pages.append((row["url"], gzip.decompress((NEWS_DIR / row["path"]).read_bytes())))
    truth = json.loads((AEB_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    for page_id in sorted(truth):
        pages.append((truth[page_id].get("url") or "", gzip.decompress((AEB_DIR / "html" / f"{page_id}.html.gz")
                                                                      .read_bytes())))
    return pages


def real_set(limit: int | None = None) -> tuple:
    """Routes for the real pages at their own URLs (made up when missing or repeated) and RSS feeds listing them."""
    from pipeline.corpus_server import Route

    routes, links = {}, []
    for n, (url, body) in enumerate(real_pages()[:limit]):
        # Plain http: the local proxy serves GET, not CONNECT tunnels.
        url = "http://" + url.split("://", 1)[1] if url.startswith("https://") else url
        if not url.startswith("http://") or url in routes:
            url = f"http://page-{n}.real.example/article"
        routes[url] = Route(body=body, content_type="text/html")
        links.append(url)
    feeds = []
    for start in range(0, len(links), REAL_FEED_ITEMS):
        items = "".join(f"<item><title>page {start + i}</title><link>{escape(link)}</link><guid>{escape(link)}</guid>"
                        f"</item>" for i, link in enumerate(links[start:start + REAL_FEED_ITEMS]))
        feed_url = f"{REAL_FEEDS_HOST}/{start // REAL_FEED_ITEMS}.xml"
        routes[feed_url] = Route(body=f'<?xml version="1.0"?><rss version="2.0"><channel><title>real</title>'
                                      f"{items}</channel></rss>".encode("utf-8"),
                                 content_type="application/rss+xml; charset=utf-8")
        feeds.append(feed_url)
    return routes, feeds


def copied(routes: dict, feeds: list, copies: int) -> tuple:
    """The page set `copies` times over, each copy on hosts of its own ("c2-" + host), feeds and pages rewritten.

    Copy k of a page differs only in its host, wherever the host is written (links, canonical URLs),
    so every copy is fetched, extracted and tagged like a new page, and found to be the same text.
    """
    from pipeline.corpus_server import Route

    if copies <= 1:
        return routes, feeds
    hosts = sorted({urlsplit(url).netloc for url in routes}, key=len, reverse=True)
    host_re = re.compile("//(" + "|".join(re.escape(h) for h in hosts) + ")")
    out, out_feeds = dict(routes), list(feeds)
    for k in range(2, copies + 1):
        def moved(text: str, k=k) -> str:
            return host_re.sub(lambda m: f"//c{k}-{m.group(1)}", text)

        for url, route in routes.items():
            body = moved(route.read().decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
            out[moved(url)] = Route(body=body, content_type=route.content_type, status=route.status)
        out_feeds += [moved(f) for f in feeds]
    return out, out_feeds


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
class StageClock:
    """Wall time of each fused stage the FnApiRunner executes, named by the wiredesk steps fused into it.

    The runner runs one stage at a time (its bundles split over the workers), so these times and the
    time outside them add up to the run. It wraps the runner's private `_execute_bundle`; on a Beam
    without it the clock records nothing and says so.
    """

    def __init__(self):
        self.stages: list = []  # (start, end, name) in run order

    def __enter__(self):
        from apache_beam.runners.portability.fn_api_runner import fn_runner

        self._runner = fn_runner.FnApiRunner
        self._original = getattr(self._runner, "_execute_bundle", None)
        if self._original is None:
            return self
        original, stages = self._original, self.stages

        def timed(runner, context, bundle_context, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(runner, context, bundle_context, *args, **kwargs)
            finally:
                names = [t.unique_name.split("/")[0] for t in bundle_context.stage.transforms if t.unique_name]
                stages.append((started, time.perf_counter(), " + ".join(dict.fromkeys(names))))

        self._runner._execute_bundle = timed
        return self

    def __exit__(self, *exc):
        if self._original is not None:
            self._runner._execute_bundle = self._original

    def report(self, started: float, elapsed: float) -> list:
        """Lines: each stage's start and wall seconds, merged by name, then the time outside every stage."""
        if not self.stages:
            return ["  (no stage times: this Beam's FnApiRunner has no _execute_bundle)"]
        merged: dict = {}
        for begin, end, name in self.stages:
            first, total = merged.get(name, (begin, 0.0))
            merged[name] = (first, total + end - begin)
        inside = sum(total for _, total in merged.values())
        lines = [f"  {first - started:6.2f}s +{total:5.2f}s  {name}" for name, (first, total) in merged.items()
                 if total >= 0.05]
        lines.append(f"  outside any stage (prepare, build, runner and worker set-up, shutdown): "
                     f"{elapsed - inside:.2f}s of {elapsed:.2f}s")
        return lines


def pipeline_run(feeds: list, proxy_url: str, extra: list, clock: StageClock | None = None) -> dict:
    import yaml

    from pipeline.run import run_pipeline

    with tempfile.TemporaryDirectory(prefix="wiredesk-tput-") as tmp:
        feeds_file = Path(tmp) / "feeds.yaml"
        feeds_file.write_text(yaml.safe_dump([{"url": u} for u in feeds]), encoding="utf-8")
        started = time.perf_counter()
        with clock or contextlib.nullcontext():
            outcome = run_pipeline(["--feeds", str(feeds_file), "--warehouse", str(Path(tmp) / "w.duckdb"),
                                    "--proxy", proxy_url, "--runner", "FnApiRunner", *extra])
        elapsed = time.perf_counter() - started
    pages = outcome["counters"].get("fetch.pages", 0)
    out = {"pages": pages, "elapsed_s": elapsed, "pages_per_s": pages / elapsed,
           "articles": outcome["counters"].get("write.articles.inserted")}
    if clock is not None:
        out["stages"] = clock.report(started, elapsed)
    return out


def runs_for(quick: bool, modes: str) -> list:
    """(label, bare-loop workers, pipeline flags): 1 worker, the default on 2 cores, and the modes asked for."""
    runs = [("1 worker", 1, ["--direct_num_workers", "1"])]
    if not quick:
        runs.append(("2 workers (default)", 2, ["--direct_num_workers", "2"]))
        runs += [(f"2 workers {m}", 2, ["--direct_num_workers", "2", "--direct_running_mode", m])
                 for m in modes.split(",") if m]
    return runs


def measure(name: str, routes: dict, feeds: list, runs: list, results: dict, lines: list,
            stage_times: bool = False) -> None:
    from pipeline.corpus_server import CorpusServer

    with CorpusServer(routes) as server:
        bare_loop(server.url, feeds[:1], 1)  # warm the OS cache and imports so neither side pays them alone
        for label, workers, extra in runs:
            bare = bare_loop(server.url, feeds, workers)
            try:
                pipe = pipeline_run(feeds, server.url, extra, StageClock() if stage_times else None)
            except Exception as exc:  # noqa: BLE001 - a running mode that does not work is a finding
                pipe = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
            key = f"{name}: {label}"
            results[key] = {"bare": bare, "pipeline": pipe}
            if "error" in pipe:
                lines.append(f"{label:30s} pipeline FAILED ({pipe['error']}); bare {bare['pages_per_s']:.1f} pages/s")
                continue
            ratio = pipe["pages_per_s"] / bare["pages_per_s"]
            results[key]["ratio"] = ratio
            lines.append(f"{label:30s} pipeline {pipe['pages']} pages in {pipe['elapsed_s']:.1f}s = "
                         f"{pipe['pages_per_s']:.1f} pages/s | bare fetch+trafilatura {bare['pages']} pages in "
                         f"{bare['elapsed_s']:.1f}s = {bare['pages_per_s']:.1f} pages/s | ratio {ratio:.2f}")
            lines.extend(pipe.get("stages", []))


def verdicts(name: str, results: dict) -> list:
    one = results.get(f"{name}: 1 worker", {})
    if "ratio" not in one:
        return []
    out = [f"target pipeline/bare >= 0.8 on 1 worker: {'met' if one['ratio'] >= 0.8 else 'NOT met'} "
           f"({one['ratio']:.2f})"]
    for key, r in results.items():
        if key.startswith(f"{name}: ") and key != f"{name}: 1 worker" and "ratio" in r:
            scale = r["pipeline"]["pages_per_s"] / one["pipeline"]["pages_per_s"]
            bare_scale = r["bare"]["pages_per_s"] / one["bare"]["pages_per_s"]
            out.append(f"scaling {key.split(': ', 1)[1]}: pipeline {scale:.2f}x one worker (target >= 1.6: "
                       f"{'met' if scale >= 1.6 else 'NOT met'}); bare loop {bare_scale:.2f}x; "
                       f"ratio to bare {r['ratio']:.2f}")
    return out


# ---------------------------------------------------------------------------------------- profile
def profile_stages(split_dir: Path, out: Path, limit: int | None) -> str:
    """cProfile of the per-page work outside Beam, beside bare trafilatura.extract on the same pages."""
    import cProfile
    import pstats

    import trafilatura

    from transforms.clean.cleaning import clean_lines
    from transforms.extract.decode import decode_html
    from transforms.extract.page import read_page
    from transforms.tag.registry import AgencyRegistry, load_registry_data
    from transforms.tag.rules import tag_agency

    registry = AgencyRegistry.from_data(load_registry_data(None))
    labels = [json.loads(line) for line in (Path(split_dir) / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()][:limit]
    raws = [(label["url"], (Path(split_dir) / label["path"]).read_bytes()) for label in labels]
    timings = {"decode": 0.0, "read_page": 0.0, "clean": 0.0, "tag": 0.0, "bare trafilatura.extract": 0.0}

    def work():
        for url, raw in raws:
            t0 = time.perf_counter()
            html = decode_html(raw, "utf-8", "text/html")
            t1 = time.perf_counter()
            meta, signals = read_page(html, url)
            t2 = time.perf_counter()
            kept, removed = clean_lines(meta.raw_lines)
            t3 = time.perf_counter()
            tag_agency(meta.raw_lines, removed, signals._asdict(), registry)
            t4 = time.perf_counter()
            for key, dt in zip(list(timings)[:4], (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                timings[key] += dt

    def bare():
        for url, raw in raws:
            t0 = time.perf_counter()
            trafilatura.extract(raw, url=url)
            timings["bare trafilatura.extract"] += time.perf_counter() - t0

    work()  # warm-up
    bare()
    timings.update((k, 0.0) for k in timings)
    work()
    bare()
    plain = dict(timings)
    profiler = cProfile.Profile()
    profiler.runcall(work)
    with open(out, "w", encoding="utf-8") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
    n = len(raws)
    ours = sum(v for k, v in plain.items() if k != "bare trafilatura.extract")
    return ("per-page cost (ms/page, no profiler): " + ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in plain.items())
            + f"; our stages together {1000 * ours / n:.1f} = "
            + f"{ours / plain['bare trafilatura.extract']:.2f}x bare; cProfile written to {out}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", type=Path, default=SYNDICATION_DEV)
    parser.add_argument("--quick", action="store_true",
                        help=f"only the first {QUICK_FEEDS} syndication feeds, 1 worker, no real pages (CI)")
    parser.add_argument("--no-real", action="store_true", help="leave out the real news/ and aeb/ pages")
    parser.add_argument("--modes", default="",
                        help="direct_running_mode values to try on 2 workers besides the default")
    parser.add_argument("--profile", type=Path,
                        help="also time every fused stage of each pipeline run, and profile the per-page work "
                             "into this file")
    parser.add_argument("--copies", type=int, default=1,
                        help="serve each page set this many times over, on hosts of their own (a longer run, "
                             "where start-up and the serial steps weigh less)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    limit = QUICK_FEEDS if args.quick else None
    results: dict = {}
    runs = runs_for(args.quick, args.modes)
    sets = [("syndication", *syndication_set(args.split, limit))]
    if not (args.quick or args.no_real):
        sets.append(("real pages", *real_set()))
    for name, routes, feeds in sets:
        routes, feeds = copied(routes, feeds, args.copies)
        lines: list = []
        measure(name, routes, feeds, runs, results, lines, stage_times=args.profile is not None)
        what = f"{args.split.name} ({len(feeds)} feeds)" if name == "syndication" else \
            f"news/ + aeb/ ({len(feeds)} feeds)"
        times = f", {args.copies} copies on hosts of their own" if args.copies > 1 else ""
        print(f"throughput over {name} {what}{times}, FnApiRunner, wall time including start-up:")
        print("\n".join(lines + verdicts(name, results)))
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    if args.profile:
        print(profile_stages(args.split, args.profile, 60 if args.quick else None))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
