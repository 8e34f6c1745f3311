"""Syndication benchmark: the whole pipeline over a syndication split, scored with the corpus's own scorer.

    python benchmarks/syndication.py [--split DIR] [--quick] [--json OUT]

Serves the split's outlets through a local forward proxy, runs `wiredesk run` into a fresh DuckDB
file, exports one prediction per page and prints agency P/R/F1, story-cluster pairwise F1 and ARI,
body F1 (AEB shingle metric), title exact match, story_agency P/R and its recall on pages whose
credit was stripped, plus conservation counters and pages/s.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_SPLIT = REPO.parent / "shared" / "corpus" / "syndication" / "dev"


def load_scorer(split_dir: Path):
    """The corpus's own score.py, imported from beside the split (it is not ours to copy)."""
    path = Path(split_dir).parent / "score.py"
    spec = importlib.util.spec_from_file_location("syndication_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_feeds_file(split_dir: Path, directory: Path, limit: int | None = None) -> Path:
    import yaml

    from tests.support.corpus import syndication_feed_urls

    index = json.loads((Path(split_dir) / "feeds" / "index.json").read_text(encoding="utf-8"))
    names = {f["feed_url"]: f["name"] for f in index}
    urls = syndication_feed_urls(split_dir)[:limit]
    path = Path(directory) / "feeds.yaml"
    path.write_text(yaml.safe_dump([{"url": u, "name": names[u]} for u in urls], sort_keys=False),
                    encoding="utf-8")
    return path


def run_split(split_dir: Path, warehouse: Path, proxy_url: str, workdir: Path, extra_args=(),
              feed_limit: int | None = None) -> dict:
    """One pipeline run over the split's feeds through the proxy; returns counters and timing."""
    from pipeline.run import run_pipeline

    feeds = write_feeds_file(split_dir, workdir, feed_limit)
    return run_pipeline(["--feeds", str(feeds), "--warehouse", str(warehouse), "--proxy", proxy_url,
                         *extra_args])


def predictions(warehouse: Path) -> list:
    """One prediction per article row, in the scorer's format."""
    from transforms.warehouse import duckdb_store

    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        rows = con.execute("SELECT url, agency, story_id, title, body, story_agency FROM articles").fetchall()
    finally:
        con.close()
    keys = ["url", "agency", "story_id", "title", "body", "story_agency"]
    return [dict(zip(keys, r)) for r in rows]


def story_agency_scores(scorer, split_dir: Path, preds: list) -> dict:
    """story_agency precision/recall over all pages, and recall on pages whose credit was stripped."""
    labels = [json.loads(line) for line in (Path(split_dir) / "labels.jsonl").read_text(encoding="utf-8")
              .splitlines() if line.strip()]
    by_url = {scorer.norm_url(p["url"]): p for p in preds}
    tp = fp = fn = stripped = stripped_hit = 0
    for label in labels:
        truth = scorer.norm_agency(label.get("story_agency"))
        pred = scorer.norm_agency(by_url.get(scorer.norm_url(label["url"]), {}).get("story_agency"))
        if truth is not None and pred == truth:
            tp += 1
        else:
            fp += pred is not None
            fn += truth is not None
        if label.get("credit_stripped"):
            stripped += 1
            stripped_hit += truth is not None and pred == truth
    precision, recall, f1 = scorer.prf(tp, fp, fn)
    return {"precision": precision, "recall": recall, "f1": f1,
            "credit_stripped_pages": stripped,
            "credit_stripped_recall": stripped_hit / stripped if stripped else 1.0}


def evaluate(split_dir: Path, warehouse: Path, workdir: Path) -> dict:
    scorer = load_scorer(split_dir)
    preds = predictions(warehouse)
    pred_path = Path(workdir) / "predictions.jsonl"
    pred_path.write_text("".join(json.dumps(p) + "\n" for p in preds), encoding="utf-8")
    metrics = scorer.score(Path(split_dir), pred_path)
    metrics["story_agency"] = story_agency_scores(scorer, split_dir, preds)
    return metrics


def format_metrics(m: dict, outcome: dict, pages: int) -> str:
    from pipeline.summary import conservation

    g, c, b, s = m["agency"], m["cluster"], m["body"], m["story_agency"]
    cons = conservation(outcome["counters"])
    return "\n".join([
        f"pages {m['pages']}: matched {m['predictions_matched']}, missing {m['missing_predictions']}, "
        f"unknown {m['unknown_urls']}",
        f"agency        P={g['precision']:.4f} R={g['recall']:.4f} F1={g['f1']:.4f} "
        f"(tp={g['tp']} fp={g['fp']} fn={g['fn']}); hard negatives tagged "
        f"{m['hard_negative_false_positives']}/{m['hard_negative_pages']}",
        f"story_agency  P={s['precision']:.4f} R={s['recall']:.4f} F1={s['f1']:.4f}; "
        f"recall on credit-stripped pages {s['credit_stripped_recall']:.4f} ({s['credit_stripped_pages']} pages)",
        f"clusters      pairwise P={c['pair_precision']:.4f} R={c['pair_recall']:.4f} F1={c['pair_f1']:.4f} "
        f"ARI={c['ari']:.4f} (true {c['true_clusters']}, predicted {c['pred_clusters']})",
        f"body          P={b['precision']:.4f} R={b['recall']:.4f} F1={b['f1']:.4f}",
        f"title exact   {m['title_exact']:.4f}",
        f"conservation  entries {cons['entries']} = articles {cons['articles']} + dead {cons['dead_letters']} "
        f"+ skipped {cons['skipped']} -> {'balanced' if cons['balanced'] else 'NOT BALANCED'}",
        f"speed         {pages} pages in {outcome['elapsed_s']:.1f}s = {pages / outcome['elapsed_s']:.1f} pages/s "
        f"(whole pipeline on the in-process FnApiRunner, start-up included)",
    ])


def main(argv=None) -> int:
    from pipeline.corpus_server import CorpusServer
    from tests.support.corpus import syndication_routes

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    parser.add_argument("--quick", action="store_true", help="only the first 3 feeds (a smoke check for CI)")
    parser.add_argument("--json", type=Path, help="also write the metrics here")
    args, beam_args = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="wiredesk-synd-") as tmp, \
            CorpusServer(syndication_routes(args.split)) as server:
        warehouse = Path(tmp) / "syndication.duckdb"
        started = time.monotonic()
        outcome = run_split(args.split, warehouse, server.url, Path(tmp), beam_args,
                            feed_limit=3 if args.quick else None)
        outcome["elapsed_s"] = time.monotonic() - started
        metrics = evaluate(args.split, warehouse, Path(tmp))
        pages = outcome["counters"].get("fetch.pages", 0)
    print(format_metrics(metrics, outcome, pages))
    if args.json:
        args.json.write_text(json.dumps({"metrics": metrics, "counters": outcome["counters"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
