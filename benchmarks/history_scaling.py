"""History scaling: what a run costs as the warehouse's history grows from 10k to 1M stored articles.

    python benchmarks/history_scaling.py [--quick] [--sizes 10k,100k,1M] [--repeats 3] [--json OUT]

Why: a run used to read every stored link, id and body in the launcher and carry them in the job
graph, so a no-op rerun of a 100k-article warehouse took minutes and 13 GB. The builder now does
no I/O; pipeline/prepare.py keeps a `story_index` (each article's MinHash signature and band keys,
computed once when it is written) and the graph looks up this run's own keys while it runs. This
script checks that a run's cost follows what the run brings, not what the warehouse holds.

For each size a synthetic DuckDB warehouse is written by benchmarks/history_warehouse.make_history
(filler rows at 600 an hour, plus 150 "real" stored stories built from real sentences of the
corpus, published in the day before the newest stored article). Feeds and article pages are
served over real HTTP on 127.0.0.1 by pipeline/corpus_server.CorpusServer, used as the forward
proxy, which answers If-None-Match with 304 (its ETag is a hash of the body). Then:

1. new pages: a rerun whose feeds list 500 new pages, 150 of them lightly edited copies of the
   stored stories on other outlets and 350 unrelated. Every copy must get its stored story's id;
   the warehouse is read back to check it, and that the 500 rows landed.
2. no-op rerun: the same feeds again; every feed answers 304 (the ETags were stored in feed_state
   by run 1), so nothing is fetched or written.
3. job graph: prepare() + build_pipeline() as the CLI does them, and the size of the serialized
   pipeline proto; also the job graph of a Dataflow --dry_run.
4. streaming start-up: launch to exit of `wiredesk run --streaming --max_polls 1` over the same
   304 feeds plus one fresh feed of 5 new entries (one a copy of a stored story). With 304s only
   the stream never reaches Deduplicate, so its story index would never seed from the warehouse;
   the fresh entries make it seed, and the copy checks that it joined its stored story.

Every measured run is in a fresh subprocess: wall = launch to exit, peak RSS = that process's own
high-water mark (VmHWM, read as it exits), so it belongs to that run only. Each is repeated
--repeats times and the median is quoted; each repetition goes round the sizes in turn, so load
from anything else on the machine falls on every size alike. The targets are checked on `wiredesk run` (the command
as a person runs it, end-of-run summary included); the no-op rerun and the streaming start-up are
also measured with pipeline.run.run_pipeline alone (no summary), to show what the summary itself
costs (it reads back only what the run wrote). "pipeline s" is the run's own elapsed time (prepare + build + run), without
interpreter start-up and the summary. The warehouses live in a temporary directory (--workdir to
choose where, --keep to keep them); the 1M one takes about 1.2 GB, twice over while it is copied.
"""
from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import html
import json
import logging
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.streaming_memory import DEFAULT_CORPUS, sentences  # noqa: E402

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 20_000)
FEEDS = 10  # outlets, one RSS feed each, serving the new pages between them
STREAM_NEW = 5  # entries of the fresh feed a streaming start-up run reads (one is a copy)
MB = 1024 * 1024
RSS = "application/rss+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"
DATAFLOW_DRY_RUN = ["--runner", "DataflowRunner", "--dry_run=True", "--no_auth", "--project=my-project",
                    "--region=us-central1", "--temp_location=gs://valid-bucket-name/tmp"]

# Measured on this machine before the change (the launcher read every stored row, the graph carried them).
TODAY = {
    597: {"noop_wall_s": "3.7-4.2", "noop_rss_gb": "0.29-0.30", "graph_build_s": 1.1, "proto_mb": 0.7},
    50_148: {"noop_wall_s": "93.5", "noop_rss_gb": "7.0", "graph_build_s": 31.5, "proto_mb": 10.5},
    100_296: {"noop_wall_s": "218.1", "noop_rss_gb": "13.1", "graph_build_s": None, "proto_mb": None},
}


# ------------------------------------------------------------------------------------------ texts
class Texts:
    """Article bodies of 300-900 words from real sentences of the corpus, and light edits of them."""

    AUTHORS = ("Priya Raman", "Daniel Okafor", "Mei Lin", "Arjun Mehta", "Sara Lindqvist", "Tomás Ruiz")
    SWAPS = {"said": "told reporters", "would": "will", "was": "had been", "officials": "authorities",
             "government": "administration", "people": "residents"}

    def __init__(self, seed: int = 11):
        self.rng = random.Random(seed)
        self.pool = [" ".join(s.split()) for s in sentences(DEFAULT_CORPUS)]

    def title(self) -> str:
        words = self.rng.choice(self.pool).rstrip(".!?\"'").split()[:12]
        return " ".join(words).strip("\"' ") or "Untitled"

    def body(self) -> str:
        """Paragraphs of 2-5 sentences separated by blank lines, as the pipeline stores bodies."""
        target, count, paragraphs = self.rng.randint(300, 900), 0, []
        while count < target:
            para = " ".join(self.rng.choice(self.pool) for _ in range(self.rng.randint(2, 5)))
            paragraphs.append(para)
            count += len(para.split())
        # Figures unique to the story, as real stories have, so two fresh stories never coincide.
        paragraphs[-1] += f" The figures were {self.rng.randint(1, 10**9):,} and {self.rng.randint(1, 10**9):,}."
        return "\n\n".join(paragraphs)

    def copy(self, body: str) -> str:
        """A lightly edited copy: re-datelined, a few words changed, the last paragraph cut when short.

        Light on purpose: at most ~15% of the words go. A copy cut to half its original shares no
        LSH band with it about 1 time in 100 (32 bands of 4 rows; Jaccard ~0.5), which would
        measure the LSH's recall on condensed copies, not whether stored stories are found.
        """
        paragraphs = body.split("\n\n")
        if len(paragraphs) > 3 and len(paragraphs[-1].split()) <= 0.15 * len(body.split()) and self.rng.random() < 0.5:
            paragraphs = paragraphs[:-1]
        words = "\n\n".join(paragraphs).split(" ")
        for _ in range(self.rng.randint(2, 6)):
            i = self.rng.randrange(len(words))
            words[i] = self.SWAPS.get(words[i].lower(), self.rng.choice(("said", "told", "reported", "the")))
        return "NEW DELHI (IANS) — " + " ".join(words)

    def author(self) -> str:
        return self.rng.choice(self.AUTHORS)


def page_html(url: str, outlet: str, title: str, author: str, body: str, published: dt.datetime) -> bytes:
    """A plain news page: head metadata, nav, headline, byline, time, <p> paragraphs, footer."""
    iso = published.isoformat()
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {outlet}</title>
<meta name="description" content="{html.escape(body.split(chr(10))[0][:150])}">
<meta property="article:published_time" content="{iso}">
<link rel="canonical" href="{url}">
</head><body>
<header><a href="/">{outlet}</a> <nav><a href="/world">World</a> <a href="/business">Business</a></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="byline">By {html.escape(author)}</p>
<time datetime="{iso}">{published:%d %B %Y %H:%M} UTC</time>
{paragraphs}
</article></main>
<footer><p>Copyright 2026 {outlet}. All rights reserved.</p></footer>
</body></html>
""".encode("utf-8")


def rss_feed(host: str, items: list) -> bytes:
    """An RSS 2.0 feed of (url, title, published) items."""
    rows = "".join(
        f"<item><title>{xml_escape(t)}</title><link>{xml_escape(u)}</link><guid isPermaLink=\"true\">"
        f"{xml_escape(u)}</guid><pubDate>{email.utils.format_datetime(p)}</pubDate></item>\n"
        for u, t, p in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{host}</title>'
            f"<link>http://{host}/</link><description>Latest news from {host}</description>\n{rows}"
            f"</channel></rss>\n").encode("utf-8")


# --------------------------------------------------------------------------------------- scenario
class Scenario:
    """The stored real stories, the 500 new pages and their feeds: the same for every size."""

    def __init__(self, texts: Texts, end: dt.datetime, pages: int, copies: int, stored_real: int):
        from transforms.clean.stage import content_hash
        from transforms.feeds.urls import article_id, canonical_url

        self.texts, self.end = texts, end
        self.real = []  # article dicts for make_history(real=...)
        for i in range(stored_real):
            url = f"http://wireorigin{i % 5}.example/story/{i}.html"
            body, published = texts.body(), end - dt.timedelta(minutes=texts.rng.randint(60, 23 * 60))
            aid = article_id(canonical_url(url))
            self.real.append(dict(
                article_id=aid, url=url, canonical_url=canonical_url(url),
                feed_url=f"http://wireorigin{i % 5}.example/rss.xml", outlet=f"wireorigin{i % 5}.example",
                title=texts.title(), description=None, authors=[texts.author()], section="World", tags=[],
                language="en", body=body, word_count=len(body.split()), published_at=published.isoformat(),
                published_at_source="jsonld", fetched_at=published.isoformat(), ingested_at=published.isoformat(),
                agency=None, agency_evidence=[], story_agency=None, content_hash=content_hash(body),
                story_id=aid, duplicate_of=None, pipeline_version="history"))
        self.routes, self.feed_urls, self.copy_of = {}, [], {}  # copy page url -> stored story id
        items = {f"outlet{k:02d}.example": [] for k in range(FEEDS)}
        hosts = sorted(items)
        for i in range(pages):
            host = hosts[i % FEEDS]
            url = f"http://{host}/news/{i:04d}.html"
            published = end + dt.timedelta(seconds=60 + i)
            if i * copies // pages != (i + 1) * copies // pages:  # spread the copies evenly
                origin = self.real[len(self.copy_of) % len(self.real)]
                title, body = origin["title"], texts.copy(origin["body"])
                self.copy_of[url] = origin["story_id"]
            else:
                title, body = texts.title(), texts.body()
            self.routes[url] = self._page(url, host, title, body, published)
            items[host].append((url, title, published))
        for host in hosts:
            feed = f"http://{host}/rss.xml"
            self.feed_urls.append(feed)
            self.routes[feed] = _route(rss_feed(host, items[host]), RSS)

    def _page(self, url, host, title, body, published):
        return _route(page_html(url, host, title, self.texts.author(), body, published), HTML)

    def stream_feed(self, tag: str, origin: dict) -> tuple:
        """(feed url, routes, copy url) of a fresh feed: STREAM_NEW new pages, the first a copy of origin."""
        host = f"stream-{tag}.example"
        routes, items = {}, []
        for i in range(STREAM_NEW):
            url = f"http://{host}/news/{i}.html"
            published = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=60 - i)
            if i == 0:
                title, body = origin["title"], self.texts.copy(origin["body"])
            else:
                title, body = self.texts.title(), self.texts.body()
            routes[url] = self._page(url, host, title, body, published)
            items.append((url, title, published))
        feed = f"http://{host}/rss.xml"
        routes[feed] = _route(rss_feed(host, items), RSS)
        return feed, routes, f"http://{host}/news/0.html"


def _route(body: bytes, content_type: str):
    from pipeline.corpus_server import Route

    return Route(body=body, content_type=content_type)


# ------------------------------------------------------------------------------------- measuring
# The measured process reports its own peak RSS (VmHWM) as it exits. ru_maxrss from wait4 would not
# do: the child is spawned by vfork, and exec carries the parent's high-water RSS (this process,
# with Beam imported and a graph built) into the child's ru_maxrss.
#   cli ARGS       `wiredesk run ARGS`: the command as a person runs it, end-of-run summary included
#   pipeline ARGS  pipeline.run.run_pipeline(ARGS) alone: prepare, build and run, no summary
_CHILD = """
import atexit, json, sys

def _peak():
    with open("/proc/self/status", encoding="ascii") as fh:
        hwm = next((line.split()[1] for line in fh if line.startswith("VmHWM:")), "0")
    print(f"history_scaling: peak_rss_kb={hwm}", file=sys.stderr, flush=True)

atexit.register(_peak)
if sys.argv[1] == "cli":
    from pipeline.cli import main
    sys.exit(main(["run", "--progress", "off", *sys.argv[2:]]))
from pipeline.run import run_pipeline
outcome = run_pipeline(sys.argv[2:])
print("history_scaling: counters=" + json.dumps(outcome["counters"]))
print(f"history_scaling: elapsed_s={outcome['elapsed_s']:.3f}")
"""


def measured_run(args: list, workdir: Path, label: str, mode: str = "cli", timeout: float = 1800.0) -> dict:
    """One run in a fresh process (see _CHILD): wall s, its peak RSS, its counters and its pipeline s."""
    out_path, err_path = workdir / f"{label}.out", workdir / f"{label}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, mode, *args], cwd=REPO, stdout=out, stderr=err)
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"{label}: still running after {timeout:.0f}s; killed") from None
        wall = time.perf_counter() - started
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    if returncode != 0:
        raise RuntimeError(f"{label}: the run exited {returncode}\n{stdout[-2000:]}\n{stderr[-3000:]}")
    counters = {}
    for line in stdout.splitlines():  # the summary's "counters per stage" lines
        match = re.match(r"\s+(read_feeds|fetch|extract|clean|tag|dedup|write)\s+(.*)", line)
        if match:
            for name, value in re.findall(r"([\w.]+)=(\d+)", match.group(2)):
                counters[f"{match.group(1)}.{name}"] = int(value)
    for found in re.findall(r"^history_scaling: counters=(.*)$", stdout, re.M):  # run_pipeline's own counters
        counters.update(json.loads(found))
    finished = (re.findall(r"run_finished\b.*?elapsed_s=([\d.]+)", stderr)
                or re.findall(r"^history_scaling: elapsed_s=([\d.]+)", stdout, re.M))
    peak = re.findall(r"history_scaling: peak_rss_kb=(\d+)", stderr)
    return {"wall_s": wall, "rss_mb": int(peak[-1]) / 1024 if peak else None, "counters": counters,
            "pipeline_s": float(finished[-1]) if finished else None, "stdout": stdout}


def median_of(runs: list, key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def graph_figures(feeds_file: Path, warehouse: Path) -> dict:
    """prepare() + build_pipeline() as the CLI does them, in this process; the serialized proto's size."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.builder import build_pipeline
    from pipeline.prepare import prepare

    options = PipelineOptions(["--feeds", str(feeds_file), "--warehouse", str(warehouse), "--runner", "FnApiRunner"])
    root = logging.getLogger()
    level, _ = root.level, root.setLevel(logging.ERROR)  # Beam's type-hint warnings, as the CLI holds them
    try:
        started = time.perf_counter()
        inputs = prepare(options, say=lambda line: None)
        pipeline = build_pipeline(options, inputs)
        built = time.perf_counter() - started
    finally:
        root.setLevel(level)
    proto = pipeline.to_runner_api().SerializeToString()
    return {"graph_build_s": built, "proto_bytes": len(proto)}


def dataflow_dry_run(feeds_file: Path, warehouse: Path, workdir: Path) -> dict:
    """The job graph a Dataflow --dry_run would submit (nothing leaves this machine)."""
    run = measured_run(["--feeds", str(feeds_file), "--warehouse", str(warehouse), *DATAFLOW_DRY_RUN],
                       workdir, "dataflow-dry-run", timeout=600)
    found = re.search(r"job graph size: (\d+) bytes", run["stdout"])
    if not found:
        raise RuntimeError(f"dataflow dry run printed no job graph size:\n{run['stdout'][-2000:]}")
    return {"dataflow_bytes": int(found.group(1)), "dataflow_wall_s": run["wall_s"]}


def read_back(warehouse: Path, sql: str, params=()) -> list:
    from transforms.warehouse import duckdb_store

    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def feed_statuses(server, since: int, feed_urls: list) -> dict:
    """{status: count} of the feed requests the server answered since request number `since`."""
    from pipeline.corpus_server import route_key

    feeds = {route_key(u) for u in feed_urls}
    counts: dict = {}
    for host, path, status in server.requests[since:]:
        if (host, path) in feeds:
            counts[status] = counts.get(status, 0) + 1
    return counts


# ------------------------------------------------------------------------------------------ runs
def figures(runs: list, **extra) -> dict:
    """Medians (and every value) of a list of measured runs."""
    return {"wall_s": median_of(runs, "wall_s"), "rss_mb": median_of(runs, "rss_mb"),
            "pipeline_s": median_of(runs, "pipeline_s"), "walls": [round(r["wall_s"], 2) for r in runs],
            "rss_mbs": [round(r["rss_mb"] or 0) for r in runs], **extra}


class History:
    """One size: its warehouse (a pristine copy until the new-pages runs are done) and its figures."""

    def __init__(self, n: int, root: Path, scenario: Scenario, say):
        from benchmarks.history_warehouse import make_history

        self.n, self.label = n, f"[{n:,}]"
        self.work = root / f"n{n}"
        self.work.mkdir()
        self.pristine, self.warehouse = self.work / "history.duckdb", self.work / "run.duckdb"
        started = time.perf_counter()
        self.made = make_history(self.pristine, n, end=scenario.end, real=scenario.real)
        self.result = {"size": n, "stored": self.made["articles"], "generate_s": time.perf_counter() - started,
                       "warehouse_mb": self.pristine.stat().st_size / MB}
        self.runs: dict = {}
        say(f"{self.label} warehouse: {self.made['articles']:,} stored articles ({self.made['signed']} real ones "
            f"signed in place), {self.result['warehouse_mb']:,.0f} MB, written in {self.result['generate_s']:.1f}s")


def measure_all(args, scenario: Scenario, histories: list, server, feeds_file: Path, say) -> None:
    """Every measurement, each repetition going round the sizes in turn: the machine's background
    load then falls on every size alike, rather than on whichever size happened to run at the time."""
    base = ["--feeds", str(feeds_file), "--proxy", server.url]
    pages = [u for u in scenario.routes if u.endswith(".html")]

    # 1. New pages: each repetition on a fresh copy of the history, checked from the warehouse after it.
    for rep in range(args.repeats):
        for h in histories:
            shutil.copyfile(h.pristine, h.warehouse)
            run = measured_run(base + ["--warehouse", str(h.warehouse)], h.work, f"new-{rep}")
            stories = dict(read_back(h.warehouse, "SELECT url, story_id FROM articles WHERE url IN (SELECT unnest($1))",
                                     [pages]))
            run["joined"] = sum(1 for url, story_id in scenario.copy_of.items() if stories.get(url) == story_id)
            run["landed"] = len(stories)
            run["added"] = read_back(h.warehouse, "SELECT count(*) FROM articles")[0][0] - h.made["articles"]
            h.runs.setdefault("new_pages", []).append(run)
            say(f"{h.label} new pages run {rep + 1}: {run['wall_s']:.1f}s wall, {run['rss_mb']:.0f} MB peak RSS, "
                f"{run['counters'].get('fetch.pages', 0)} pages fetched, {run['landed']} rows landed, "
                f"{run['joined']}/{len(scenario.copy_of)} copies joined their stored story")
    for h in histories:
        h.pristine.unlink()  # the runs below use the last run's copy, whose feed_state holds the feeds' ETags
        runs = h.runs["new_pages"]
        h.result["new_pages"] = figures(runs, copies=len(scenario.copy_of), pages=len(pages),
                                        copies_joined=min(r["joined"] for r in runs),
                                        rows_landed=min(r["landed"] for r in runs),
                                        rows_added=max(r["added"] for r in runs))

    # 2. No-op reruns: the same feeds, every one answered 304; `wiredesk run`, then run_pipeline alone.
    for mode in ("cli", "pipeline"):
        for rep in range(args.repeats):
            for h in histories:
                mark = len(server.requests)
                run = measured_run(base + ["--warehouse", str(h.warehouse)], h.work, f"noop-{mode}-{rep}", mode=mode)
                run["feed_statuses"] = feed_statuses(server, mark, scenario.feed_urls)
                h.runs.setdefault(f"noop-{mode}", []).append(run)
                say(f"{h.label} no-op rerun ({mode}) {rep + 1}: {run['wall_s']:.2f}s wall, {run['rss_mb']:.0f} MB "
                    f"peak RSS, feeds answered {run['feed_statuses']}")
    for h in histories:
        for mode, key in (("cli", "noop"), ("pipeline", "noop_pipeline")):
            runs = h.runs[f"noop-{mode}"]
            h.result[key] = figures(runs, all_304=all(r["feed_statuses"] == {304: FEEDS} for r in runs),
                                    nothing_fetched=all(r["counters"].get("fetch.pages", 0) == 0 for r in runs))

    # 3. The job graph.
    for h in histories:
        graph = h.result["graph"] = graph_figures(feeds_file, h.warehouse)
        if not args.no_dataflow:
            graph.update(dataflow_dry_run(feeds_file, h.warehouse, h.work))
        say(f"{h.label} graph: built in {graph['graph_build_s']:.2f}s, proto {graph['proto_bytes']:,} bytes"
            + (f", Dataflow dry-run job graph {graph['dataflow_bytes']:,} bytes" if "dataflow_bytes" in graph else ""))

    # 4. Streaming start-up: the 304 feeds plus one fresh feed of new entries (see the docstring);
    # `wiredesk run --streaming`, then run_pipeline alone. Each run has its own fresh feed.
    for mode in ("cli", "pipeline"):
        for rep in range(args.repeats):
            for h in histories:
                runs = h.runs.setdefault(f"stream-{mode}", [])
                origin = scenario.real[-1 - len(runs) - (args.repeats if mode == "pipeline" else 0)]
                feed, routes, copy_url = scenario.stream_feed(f"{h.n}-{mode}-{rep}", origin)
                for url, route in routes.items():
                    server.set_route(url, route)
                mark = len(server.requests)
                run = measured_run(base + ["--feeds", feed, "--warehouse", str(h.warehouse), "--streaming",
                                           "--max_polls", "1", "--poll_interval", "1s"], h.work,
                                   f"stream-{mode}-{rep}", mode=mode)
                run["feed_statuses"] = feed_statuses(server, mark, scenario.feed_urls)
                story = read_back(h.warehouse, "SELECT story_id FROM articles WHERE url = $1", [copy_url])
                run["copy_joined"] = bool(story) and story[0][0] == origin["story_id"]
                run["landed"] = read_back(h.warehouse, "SELECT count(*) FROM articles WHERE feed_url = $1",
                                          [feed])[0][0]
                run["seeded"] = run["counters"].get("dedup.index_seeded")
                runs.append(run)
                say(f"{h.label} streaming start-up ({mode}) {rep + 1}: {run['wall_s']:.1f}s wall, "
                    f"{run['rss_mb']:.0f} MB peak RSS, index seeded with {run['seeded']} stored members, "
                    f"copy joined: {run['copy_joined']}")
    for h in histories:
        for mode, key in (("cli", "streaming"), ("pipeline", "streaming_pipeline")):
            runs = h.runs[f"stream-{mode}"]
            h.result[key] = figures(
                runs, seeded=median_of(runs, "seeded"), copies=len(runs),
                copies_joined=sum(r["copy_joined"] for r in runs), landed=sum(r["landed"] for r in runs),
                new_entries=STREAM_NEW * len(runs), feeds_304=all(r["feed_statuses"] == {304: FEEDS} for r in runs))


# ---------------------------------------------------------------------------------------- report
def parse_sizes(text: str) -> list:
    sizes = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*([\d.]+)\s*([kKmM]?)\s*", part)
        if not match:
            raise argparse.ArgumentTypeError(f"--sizes: expected numbers like 10k,100k,1M, got {part!r}")
        sizes.append(int(float(match.group(1)) * {"": 1, "k": 1000, "m": 1_000_000}[match.group(2).lower()]))
    return sorted(set(sizes))


def fmt(value, spec: str = ".1f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def report(results: list, args) -> tuple:
    """The printed table, the checks and the targets; returns (lines, summary)."""
    lines = ["", f"history scaling: medians of {args.repeats} run(s), each in a fresh process; wall = launch to "
                 "exit, pipeline = prepare + build + run (no interpreter start, no end-of-run summary), RSS = that "
                 "process's peak",
             f"{'stored':>9}  {'run':<50} {'wall s':>7} {'pipeline s':>10} {'RSS MB':>7}  checks"]
    lines.append("-" * (len(lines[-1]) + 34))

    def row(r, name, f, checks):
        lines.append(f"{r['stored']:>9,}  {name:<50} {fmt(f['wall_s'], '.2f'):>7} {fmt(f['pipeline_s'], '.2f'):>10} "
                     f"{fmt(f['rss_mb'], '.0f'):>7}  {checks}")

    for r in results:
        new, no, nop, st, g = r["new_pages"], r["noop"], r["noop_pipeline"], r["streaming"], r["graph"]
        row(r, "no-op rerun, 304s (wiredesk run)", no, f"{FEEDS}/{FEEDS} feeds 304: {'yes' if no['all_304'] else 'NO'}")
        row(r, "no-op rerun, 304s (run_pipeline, no summary)", nop,
            f"{FEEDS}/{FEEDS} feeds 304: {'yes' if nop['all_304'] else 'NO'}")
        row(r, f"{new['pages']} new pages, {new['copies']} copies (wiredesk run)", new,
            f"copies joined {new['copies_joined']}/{new['copies']}, rows {new['rows_landed']}/{new['pages']}")
        for name, f in (("streaming start-up, --max_polls 1 (wiredesk run)", st),
                        ("streaming start-up (run_pipeline, no summary)", r["streaming_pipeline"])):
            row(r, name, f, f"seeded {fmt(f['seeded'], ',.0f')} members, copies joined {f['copies_joined']}/"
                            f"{f['copies']}")
        lines.append(f"{r['stored']:>9,}  {'job graph':<50} build {g['graph_build_s']:.2f}s, proto "
                     f"{g['proto_bytes']:,} bytes, Dataflow dry-run job graph "
                     f"{fmt(g.get('dataflow_bytes'), ',', 'not run')} bytes")
    lines.append("today's figures (before the change), no-op rerun, feeds answered 304:")
    for stored, t in TODAY.items():
        lines.append(f"{stored:>9,}  wall {t['noop_wall_s']} s, peak RSS {t['noop_rss_gb']} GB"
                     + (f", graph build {t['graph_build_s']} s" if t["graph_build_s"] is not None else "")
                     + (f", pipeline proto {t['proto_mb']} MB" if t["proto_mb"] is not None else ""))
    lines.append("")
    for r in results:
        new, size = r["new_pages"], f"{r['size']:,}"
        st = {k: r["streaming"][k] + r["streaming_pipeline"][k] for k in ("landed", "new_entries", "copies",
                                                                            "copies_joined")}
        st["feeds_304"] = r["streaming"]["feeds_304"] and r["streaming_pipeline"]["feeds_304"]
        ok = new["copies_joined"] == new["copies"] and new["rows_landed"] == new["pages"]
        lines.append(f"copies joined their stored stories ({size}): {new['copies_joined']}/{new['copies']} "
                     f"{'ok' if new['copies_joined'] == new['copies'] else 'FAIL'}; new rows landed "
                     f"{new['rows_landed']}/{new['pages']} {'ok' if new['rows_landed'] == new['pages'] else 'FAIL'}"
                     f" (worst of {args.repeats} run(s))")
        if not ok:
            lines.append(f"FAIL ({size}): {new['copies'] - new['copies_joined']} of {new['copies']} copies did not "
                         f"get their stored story's story_id, or {new['pages'] - new['rows_landed']} new pages "
                         "did not land")
        if not (r["noop"]["all_304"] and r["noop"]["nothing_fetched"] and r["noop_pipeline"]["all_304"]):
            lines.append(f"FAIL ({size}): the no-op reruns' feeds did not all answer 304 with nothing fetched")
        lines.append(f"streaming ({size}): {st['landed']}/{st['new_entries']} fresh entries landed, "
                     f"{st['copies_joined']}/{st['copies']} stream copies joined their stored story; the other "
                     f"feeds all answered 304: {'yes' if st['feeds_304'] else 'no'}")
        if st["copies_joined"] != st["copies"] or st["landed"] != st["new_entries"]:
            lines.append(f"FAIL ({size}): the streaming runs' fresh entries did not all land and join")
    lines.append(f"(streaming start-up polls the {FEEDS} feeds, which answer 304, plus one fresh feed of {STREAM_NEW} "
                 "new entries per run: with 304s only, no article reaches Deduplicate and its story index never "
                 "seeds from the warehouse)")
    proto_sizes = [r["graph"]["proto_bytes"] for r in results]
    lines.append("proto bytes by size: " + "; ".join(f"{r['size']:,}: {r['graph']['proto_bytes']}" for r in results)
                 + f" (spread {max(proto_sizes) - min(proto_sizes)} bytes)")
    small, large = results[0], results[-1]
    a, b = f"{small['size']:,}", f"{large['size']:,}"
    ratios = {"noop_wall": large["noop"]["wall_s"] / small["noop"]["wall_s"],
              "noop_pipeline_wall": large["noop_pipeline"]["wall_s"] / small["noop_pipeline"]["wall_s"],
              "streaming_startup": large["streaming"]["wall_s"] / small["streaming"]["wall_s"],
              "streaming_pipeline_startup": (large["streaming_pipeline"]["wall_s"]
                                             / small["streaming_pipeline"]["wall_s"])}
    lines.append(f"ratio no-op rerun wall {b} / {a}: {ratios['noop_wall']:.2f} (wiredesk run), "
                 f"{ratios['noop_pipeline_wall']:.2f} (run_pipeline alone)")
    lines.append(f"ratio streaming start-up wall {b} / {a}: {ratios['streaming_startup']:.2f} (wiredesk run), "
                 f"{ratios['streaming_pipeline_startup']:.2f} (run_pipeline alone)")
    targets = [
        (f"no-op rerun {b} <= 2x {a}", ratios["noop_wall"] <= 2.0,
         f"{large['noop']['wall_s']:.2f}s vs {small['noop']['wall_s']:.2f}s"),
        (f"no-op rerun {b} peak RSS <= 1 GB", large["noop"]["rss_mb"] <= 1024, f"{large['noop']['rss_mb']:.0f} MB"),
        ("proto < 1 MB at every size", all(p < MB for p in proto_sizes), f"largest {max(proto_sizes):,} bytes"),
        (f"streaming start-up {b} <= 2x {a}", ratios["streaming_startup"] <= 2.0,
         f"{large['streaming']['wall_s']:.1f}s vs {small['streaming']['wall_s']:.1f}s"),
    ]
    for name, met, detail in targets:
        lines.append(f"target {name}: {'met' if met else 'NOT met'} ({detail})")
    # The same targets for the pipeline without the command's end-of-run summary (pipeline/summary.py's
    # warehouse_facts aggregates the whole warehouse after every run), to tell the two costs apart.
    noop, stream = large["noop_pipeline"], large["streaming_pipeline"]
    checks = [(f"no-op {b} <= 2x {a}", ratios["noop_pipeline_wall"] <= 2.0,
               f"{noop['wall_s']:.2f}s vs {small['noop_pipeline']['wall_s']:.2f}s"),
              ("its peak RSS <= 1 GB", noop["rss_mb"] <= 1024, f"{noop['rss_mb']:.0f} MB"),
              (f"streaming start-up {b} <= 2x {a}", ratios["streaming_pipeline_startup"] <= 2.0,
               f"{stream['wall_s']:.1f}s vs {small['streaming_pipeline']['wall_s']:.1f}s")]
    lines.append("  the same with run_pipeline alone: " + "; ".join(
        f"{name}: {'met' if met else 'NOT met'} ({detail})" for name, met, detail in checks))
    return lines, {"ratios": ratios, "targets": {name: met for name, met, _ in targets}}


def main(argv=None) -> int:
    import yaml

    from pipeline.corpus_server import CorpusServer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="stored articles per warehouse, e.g. 10k,100k,1M (default: 10k,100k,1M)")
    parser.add_argument("--quick", action="store_true",
                        help="2k and 20k stored articles, 100 new pages (30 copies), one run each (CI)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (the median is quoted)")
    parser.add_argument("--pages", type=int, default=500, help="new pages in the new-pages run")
    parser.add_argument("--copies", type=int, default=None, help="how many of them copy a stored story (30%%)")
    parser.add_argument("--stored-real", type=int, default=150, help="stored stories built from real text")
    parser.add_argument("--no-dataflow", action="store_true", help="skip the Dataflow dry-run job graph")
    parser.add_argument("--workdir", type=Path, default=None, help="where the warehouses go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the warehouses and run logs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or list(QUICK_SIZES)
        args.repeats, args.pages = 1, 100
    args.sizes = args.sizes or list(DEFAULT_SIZES)
    args.copies = args.copies if args.copies is not None else round(0.3 * args.pages)
    if args.repeats < 1 or not 0 <= args.copies <= args.pages or len(args.sizes) < 2:
        parser.error("need --repeats >= 1, 0 <= --copies <= --pages and at least two --sizes")

    def say(line: str) -> None:
        print(line, flush=True)

    root = Path(tempfile.mkdtemp(prefix="wiredesk-history-", dir=args.workdir))
    try:
        with CorpusServer() as server:
            # The newest stored article 10 minutes ago; the new pages come after it, still in the past.
            end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=10)
            scenario = Scenario(Texts(), end, args.pages, args.copies, args.stored_real)
            for url, route in scenario.routes.items():
                server.set_route(url, route)
            feeds_file = root / "feeds.yaml"
            feeds_file.write_text(yaml.safe_dump([{"url": u} for u in scenario.feed_urls], sort_keys=False))
            say(f"serving {FEEDS} feeds and their {args.pages} pages at {server.url} (forward proxy); "
                f"warehouses in {root}")
            histories = [History(n, root, scenario, say) for n in args.sizes]
            # One unmeasured run first, so the first measured one does not pay for a cold file cache alone.
            measured_run(["--feeds", "http://warm-up.example/rss.xml", "--proxy", server.url,
                          "--warehouse", str(root / "warm-up.duckdb")], root, "warm-up", mode="pipeline")
            measure_all(args, scenario, histories, server, feeds_file, say)
            results = [h.result for h in histories]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    lines, summary = report(results, args)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "today": {str(k): v for k, v in TODAY.items()},
                                         **summary}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
