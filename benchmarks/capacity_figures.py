"""The per-unit figures of docs/capacity.md: CPU per page by stage, bytes per page, state and row bytes.

    python benchmarks/capacity_figures.py [--quick] [--split DIR] [--json OUT]

- CPU ms per page by stage (time.process_time, one thread): the stage functions called directly on
  the syndication split's pages, the Article Extraction Benchmark's real pages and the simulated
  pages of benchmarks/batch_scale.py (decode,
  extract_page, page_signals, clean_lines, tag_agency, MinHash signing), and parse_feed on the
  split's feeds (per entry).
- Bytes per page: raw HTML as served, and gzip-6 of it (what a server sending gzip puts on the wire).
- Rows: the pipeline runs over the split into a fresh DuckDB file through the local forward proxy
  (as benchmarks/syndication.py does); the rows it wrote are sized by BigQuery's data-size rules
  (STRING/BYTES 2 + length, INT64/FLOAT64/TIMESTAMP 8, BOOL 1, NULL 0, RECORD and ARRAY the sum of
  their contents) over the types in schemas/bigquery/*.json, and the DuckDB file's bytes per article.
- State: bytes per KeepFirstLink entry (canonical link + poll time) as a state record and in memory.
- Pub/Sub: one message per new entry (transforms/feeds/beam_pubsub.encode_entry), its bytes.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import SYNDICATION_DEV  # noqa: E402

FIXED = {"INT64": 8, "INTEGER": 8, "FLOAT64": 8, "FLOAT": 8, "TIMESTAMP": 8, "DATE": 8, "DATETIME": 8,
         "BOOL": 1, "BOOLEAN": 1}


def bq_bytes(value, field: dict) -> int:
    """Logical bytes of one value under BigQuery's data-size rules."""
    if value is None:
        return 0
    if field.get("mode") == "REPEATED" and isinstance(value, (list, tuple)):
        return sum(bq_bytes(v, {**field, "mode": "NULLABLE"}) for v in value)
    kind = field["type"].upper()
    if kind in ("RECORD", "STRUCT"):
        value = value if isinstance(value, dict) else value._asdict()
        return sum(bq_bytes(value.get(f["name"]), f) for f in field["fields"])
    if kind == "STRING":
        return 2 + len(str(value).encode("utf-8"))
    if kind == "BYTES":
        return 2 + len(value)
    return FIXED.get(kind, 8)


def table_bytes(con, table: str) -> tuple:
    """(rows, mean BigQuery bytes per row) of one DuckDB table, sized by its BigQuery schema."""
    fields = json.loads((REPO / "schemas" / "bigquery" / f"{table}.json").read_text(encoding="utf-8"))
    cursor = con.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in cursor.description]
    by_name = {f["name"]: f for f in fields}
    rows = cursor.fetchall()
    sizes = [sum(bq_bytes(v, by_name[n]) for n, v in zip(names, row) if n in by_name) for row in rows]
    return len(rows), (statistics.mean(sizes) if sizes else 0.0)


def split_pages(split_dir: Path, limit: int | None) -> list:
    labels = [json.loads(line) for line in (split_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()][:limit]
    return [(label["url"], (split_dir / label["path"]).read_bytes()) for label in labels]


def aeb_pages(limit: int | None) -> list:
    """The Article Extraction Benchmark's real pages (full size, as crawled), with their URLs."""
    from benchmarks.common import AEB_DIR, read_gz

    truth = json.loads((AEB_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    return [(truth[key].get("url") or "http://aeb.example/", read_gz(AEB_DIR / "html" / f"{key}.html.gz"))
            for key in sorted(truth)[:limit]]


def simulated_pages(limit: int | None) -> list:
    """The pages benchmarks/batch_scale.py serves (benchmarks/simweb.py), so its per-page CPU can be split."""
    from benchmarks.internet_scale import sentences
    from benchmarks.simweb import Shape, host_name, page_body

    shape, pool = Shape(), sentences()
    return [(f"http://{host_name(n)}/a/{n}/{n}.html", page_body(shape, pool, n, n)) for n in range(limit or 200)]


def stage_cpu(raws: list) -> dict:
    """CPU ms per page of each per-page stage, and bytes per page."""
    from schemas.settings import DedupSettings
    from transforms.clean.cleaning import clean_lines
    from transforms.dedup.minhash import MinHasher
    from transforms.dedup.stories import sign
    from transforms.extract.decode import decode_html
    from transforms.extract.page import extract_page
    from transforms.extract.signals import page_signals
    from transforms.tag.registry import AgencyRegistry, load_registry_data
    from transforms.tag.rules import tag_agency

    registry = AgencyRegistry.from_data(load_registry_data(None))
    dedup = DedupSettings()
    hasher = MinHasher(dedup.num_perm)
    cpu = dict.fromkeys(("decode", "extract", "signals", "clean", "tag", "sign"), 0.0)
    for url, raw in raws:
        t0 = time.process_time()
        html = decode_html(raw, "utf-8", "text/html")
        t1 = time.process_time()
        meta = extract_page(html, url)
        t2 = time.process_time()
        signals = page_signals(html)
        t3 = time.process_time()
        kept, removed = clean_lines(meta.raw_lines)
        t4 = time.process_time()
        tag_agency(meta.raw_lines, removed, signals._asdict(), registry)
        t5 = time.process_time()
        sign(hasher, dedup, url, "\n".join(kept), 0.0, None)
        t6 = time.process_time()
        for key, dt in zip(cpu, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            cpu[key] += dt
    n = len(raws)
    return {"pages": n, "cpu_ms": {k: 1000 * v / n for k, v in cpu.items()},
            "raw_bytes": statistics.mean(len(r) for _, r in raws),
            "gzip_bytes": statistics.mean(len(gzip.compress(r, 6)) for _, r in raws)}


def feed_cpu(split_dir: Path) -> dict:
    """parse_feed CPU per entry and per feed, and Pub/Sub message bytes per entry, on the split's feeds."""
    from schemas.settings import Settings
    from schemas.types import FeedSpec
    from transforms.feeds.beam_pubsub import encode_entry
    from transforms.feeds.parsing import parse_feed
    from transforms.feeds.poll import _entry

    index = json.loads((split_dir / "feeds" / "index.json").read_text(encoding="utf-8"))
    entries, feeds, cpu, messages, sizes = 0, 0, 0.0, [], []
    for item in index:
        body = (split_dir / item["path"]).read_bytes()
        sizes.append(len(body))
        t0 = time.process_time()
        feed = parse_feed(body, {}, base_url=item["feed_url"])
        cpu += time.process_time() - t0
        feeds, entries = feeds + 1, entries + len(feed["entries"])
        spec = FeedSpec(url=item["feed_url"], name=item.get("name"))
        for i, raw in enumerate(feed["entries"]):
            row = _entry(spec, feed, raw, item["feed_url"], "2026-01-01T00:00:00+00:00", i, Settings(), {})
            if hasattr(row, "entry_id"):
                data, attrs = encode_entry(row)
                messages.append(len(data) + sum(len(k) + len(v) for k, v in attrs.items()))
    return {"feeds": feeds, "entries": entries, "cpu_ms_per_entry": 1000 * cpu / max(1, entries),
            "message_bytes": statistics.mean(messages) if messages else 0.0,
            "feed_bytes": statistics.mean(sizes) if sizes else 0.0}


def link_state_bytes(count: int = 20_000) -> dict:
    """Bytes per KeepFirstLink entry: its pickled state record, and heap once decoded."""
    from transforms.feeds.beam_links import _LinkSet

    records = [_LinkSet.record(f"https://www.outlet{i % 500}.example/news/2026/01/01/story-title-words-{i}",
                               1_767_225_600.0 + i) for i in range(count)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    links = _LinkSet.from_records(records, 72 * 3600.0)
    heap = (tracemalloc.get_traced_memory()[0] - before) / len(links.links)
    tracemalloc.stop()
    return {"record_bytes": statistics.mean(len(r) for r in records), "heap_bytes": heap}


def warehouse_rows(split_dir: Path, quick: bool) -> dict:
    """Run the pipeline over the split into DuckDB; BigQuery bytes per row of each table, DuckDB bytes per article."""
    from benchmarks.syndication import run_split
    from pipeline.corpus_server import CorpusServer
    from tests.support.corpus import syndication_routes
    from transforms.warehouse import duckdb_store

    with tempfile.TemporaryDirectory(prefix="wiredesk-capacity-") as tmp, \
            CorpusServer(syndication_routes(split_dir)) as server:
        warehouse = Path(tmp) / "capacity.duckdb"
        run_split(split_dir, warehouse, server.url, Path(tmp), [], feed_limit=3 if quick else None)
        con = duckdb_store.connect(warehouse, read_only=True)
        try:
            tables = {t: table_bytes(con, t) for t in ("articles", "story_index", "dead_letters", "feed_state")}
        finally:
            con.close()
        file_bytes = warehouse.stat().st_size
    articles = tables["articles"][0]
    return {"tables": {t: {"rows": n, "bq_bytes_per_row": b} for t, (n, b) in tables.items()},
            "duckdb_bytes_per_article": file_bytes / max(1, articles),
            "bq_bytes_per_article": sum(n * b for n, b in tables.values()) / max(1, articles)}


def report(r: dict) -> list:
    f, w, link = r["feeds"], r["warehouse"], r["links"]
    lines = []
    for name, s in r["stages"].items():
        lines += [f"per-page CPU ms, {name} ({s['pages']} pages): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in s["cpu_ms"].items())
                  + f"; total {sum(s['cpu_ms'].values()):.1f}",
                  f"bytes per page, {name}: raw {s['raw_bytes']:,.0f}, gzip {s['gzip_bytes']:,.0f}"]
    lines += [
             f"feeds: parse_feed {f['cpu_ms_per_entry']:.3f} ms CPU per entry ({f['entries']} entries in "
             f"{f['feeds']} feeds, {f['feed_bytes']:,.0f} B a feed); Pub/Sub: 1 message per new entry, "
             f"{f['message_bytes']:,.0f} B (data + attributes)",
             f"link state: {link['record_bytes']:.0f} B per KeepFirstLink record, {link['heap_bytes']:.0f} B in memory"]
    for table, t in w["tables"].items():
        lines.append(f"BigQuery {table}: {t['rows']} rows, {t['bq_bytes_per_row']:,.0f} B per row")
    lines.append(f"BigQuery bytes per article (all tables' rows / articles): {w['bq_bytes_per_article']:,.0f}; "
                 f"DuckDB file bytes per article: {w['duckdb_bytes_per_article']:,.0f}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", type=Path, default=SYNDICATION_DEV)
    parser.add_argument("--quick", action="store_true", help="30 pages of each set, 3 feeds")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    limit = 30 if args.quick else None
    stages = {"syndication": stage_cpu(split_pages(args.split, limit)), "aeb": stage_cpu(aeb_pages(limit)),
              "simulated": stage_cpu(simulated_pages(limit))}
    result = {"stages": stages, "feeds": feed_cpu(args.split),
              "links": link_state_bytes(), "warehouse": warehouse_rows(args.split, args.quick)}
    print("\n".join(report(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
