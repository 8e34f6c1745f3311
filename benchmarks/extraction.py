"""Body-extraction benchmark on the Article Extraction Benchmark pages (corpus aeb/), with peers in the same run.

    python benchmarks/extraction.py [--quick] [--pages N] [--json OUT] [--worst N]

For each of the 181 pages: wiredesk's extract + clean stages (decode_html, extract_page, clean_lines;
body = blank-line-joined kept paragraphs), bare `trafilatura.extract`, and the peers of the `[bench]`
extra (newspaper4k, news-please, readability-lxml, goose3). Scored with the AEB metric from the
corpus's score.py: 4-word shingles over \\w+ tokens, precision and recall averaged over pages, F1 of
the two means. ± is half the 95% bootstrap interval (1000 page resamples). ms/page is the median
wall time of one page; every tool gets the same decoded text (wiredesk's time includes decoding).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (  # noqa: E402
    AEB_DIR,
    bootstrap,
    load_peers,
    load_scorer,
    median_ms,
    paired_bootstrap,
    read_gz,
    safe_run,
)

OURS = "wiredesk"
BASELINE = "trafilatura"
QUICK_PAGES = 15


def load_pages(limit: int | None = None) -> list:
    truth = json.loads((AEB_DIR / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)[:limit]
    return [{"id": i, "url": truth[i].get("url") or "", "truth": truth[i]["articleBody"],
             "raw": read_gz(AEB_DIR / "html" / f"{i}.html.gz")} for i in ids]


def wiredesk_body(raw: bytes, url: str) -> str:
    """The pipeline's ExtractPage + CleanDraft steps on one page, as plain functions."""
    from transforms.clean.cleaning import clean_lines
    from transforms.extract.decode import decode_html
    from transforms.extract.page import extract_page
    from transforms.extract.results import ExtractionError

    try:
        page = extract_page(decode_html(raw, None, "text/html"), url)
    except ExtractionError:
        return ""
    kept, _ = clean_lines(page.raw_lines)
    return "\n\n".join(kept)


def run(pages: list) -> dict:
    """Per tool: per-page (tp, fp, fn) triples, seconds and errors."""
    from transforms.extract.decode import decode_html
    from transforms.extract.results import ExtractionError

    scorer = load_scorer()
    peers = [p for p in load_peers()]
    tools = {OURS: lambda page, html: wiredesk_body(page["raw"], page["url"])}
    notes = {}
    for peer in peers:
        notes[peer.name] = peer.describe()
        if not peer.available:
            continue
        fn = peer.run.body_only if peer.name == BASELINE else peer.run
        tools[peer.name] = (lambda f: lambda page, html: (f(html, page["url"]) or {}).get("body") or "")(fn)
    results = {name: {"triples": [], "seconds": [], "errors": []} for name in tools}
    for page in pages:
        try:
            html = decode_html(page["raw"], None, "text/html")
        except ExtractionError:
            html = page["raw"].decode("utf-8", "replace")
        for name, fn in tools.items():
            body, seconds, error = safe_run(fn, page, html)
            results[name]["triples"].append(scorer.string_shingle_matching(page["truth"], body or ""))
            results[name]["seconds"].append(seconds)
            if error:
                results[name]["errors"].append(f"{page['id'][:12]}: {error[:120]}")
    return {"results": results, "notes": notes, "scorer": scorer}


def summarise(outcome: dict) -> dict:
    scorer = outcome["scorer"]
    metric = scorer.metrics_from_tp_fp_fns
    out = {}
    for name, r in outcome["results"].items():
        m = metric(r["triples"])
        out[name] = {
            "f1": m["f1"], "precision": m["precision"], "recall": m["recall"],
            "f1_pm": bootstrap(r["triples"], lambda s: metric(s)["f1"]),
            "precision_pm": bootstrap(r["triples"], lambda s: metric(s)["precision"]),
            "recall_pm": bootstrap(r["triples"], lambda s: metric(s)["recall"]),
            "ms_per_page": median_ms(r["seconds"]), "total_s": sum(r["seconds"]), "errors": len(r["errors"]),
        }
    if BASELINE in outcome["results"]:
        diff, (low, high) = paired_bootstrap(outcome["results"][OURS]["triples"],
                                             outcome["results"][BASELINE]["triples"], lambda s: metric(s)["f1"])
        out["_paired"] = {"diff": diff, "low": low, "high": high}
    return out


def format_report(summary: dict, outcome: dict, pages: int) -> str:
    lines = [f"AEB body extraction: {pages} pages (F1/P/R: AEB 4-gram shingle metric; ± = half 95% bootstrap "
             f"interval; ms = median per page)"]
    lines.append(f"{'tool':18s} {'F1':>15s} {'precision':>15s} {'recall':>15s} {'ms/page':>8s} {'total s':>8s} errors")
    for name in [OURS, *outcome["notes"]]:
        s = summary.get(name)
        if s is None:
            lines.append(f"{name:18s} unavailable: {outcome['notes'][name]}")
            continue
        lines.append(f"{name:18s} {s['f1']:.4f} ±{s['f1_pm']:.4f}  {s['precision']:.4f} ±{s['precision_pm']:.4f}  "
                     f"{s['recall']:.4f} ±{s['recall_pm']:.4f} {s['ms_per_page']:8.1f} {s['total_s']:8.1f} "
                     f"{s['errors']}")
    lines.append("versions: " + "; ".join(outcome["notes"].values()))
    ours = summary[OURS]
    if BASELINE in summary:
        base = summary[BASELINE]
        paired = summary["_paired"]
        ratio = ours["ms_per_page"] / base["ms_per_page"]
        lines.append(f"wiredesk - trafilatura F1: {paired['diff']:+.4f} (paired 95% interval "
                     f"{paired['low']:+.4f} .. {paired['high']:+.4f})")
        lines.append(f"speed ratio wiredesk/trafilatura (median ms/page): {ratio:.2f}x "
                     f"(target <= 2.0x: {'met' if ratio <= 2.0 else 'NOT met'})")
    else:
        lines.append("trafilatura unavailable: no speed ratio")
    lines.append(f"target F1 >= 0.975: {'met' if ours['f1'] >= 0.975 else 'NOT met'} (wiredesk F1 {ours['f1']:.4f})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only the first {QUICK_PAGES} pages (CI smoke check)")
    parser.add_argument("--pages", type=int, help="only the first N pages")
    parser.add_argument("--json", type=Path, help="also write the summary and per-page scores here")
    parser.add_argument("--worst", type=int, default=0, help="list wiredesk's N worst pages with trafilatura's F1")
    args = parser.parse_args(argv)
    pages = load_pages(QUICK_PAGES if args.quick else args.pages)
    outcome = run(pages)
    summary = summarise(outcome)
    print(format_report(summary, outcome, len(pages)))
    for name, r in outcome["results"].items():
        for error in r["errors"][:3]:
            print(f"  {name} error on {error}")
    if args.worst:
        per_page = []
        for i, page in enumerate(pages):
            f1s = {}
            for name in (OURS, BASELINE):
                if name in outcome["results"]:
                    tp, fp, fn = outcome["results"][name]["triples"][i]
                    f1s[name] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            per_page.append((f1s[OURS], page["id"], f1s))
        for f1, pid, f1s in sorted(per_page)[:args.worst]:
            print(f"  worst {pid[:16]} " + " ".join(f"{k}={v:.3f}" for k, v in f1s.items()))
    if args.json:
        args.json.write_text(json.dumps({
            "summary": summary,
            "pages": [p["id"] for p in pages],
            "triples": {k: v["triples"] for k, v in outcome["results"].items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
