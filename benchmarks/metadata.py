"""Metadata benchmark on the news corpus (corpus news/): title, authors and publication date, with peers.

    python benchmarks/metadata.py [--quick] [--json OUT] [--misses TOOL]

Gold (see the corpus README and news/manifest.csv):
  * title: the manifest's gold_title (fundus, postlight, mozilla readability and newspaper4k fixtures);
    exact match after score.py's norm_title (Unicode quotes, whitespace, case).
  * authors: fundus gold.jsonl author lists; postlight and readability gold_authors split on , ; | & "and"
    with a leading By/Par removed (newspaper4k's own fixture outputs are not used: they hold its
    parsing mistakes such as "on December"). Per-page F1 of normalised name sets, averaged over pages.
  * date: fundus gold.jsonl publishing_date and readability's publishedTime (newspaper4k's fixture
    dates are its own output, not used). Within 24 h of the gold instant; a missing date is a miss.
Every tool gets the same decoded text. wiredesk is `extract_page` (a page it rejects as having no
article counts as a miss on every field, as in the pipeline). Fundus is not a peer: these are its
own test pages. Also checks that wiredesk's dates carry a source and are never in the future.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import NEWS_DIR, bootstrap, load_peers, load_scorer, median_ms, read_gz, safe_run  # noqa: E402

OURS = "wiredesk"
QUICK_PAGES = 20
DAY = timedelta(hours=24)
_SPLIT_RE = re.compile(r"\s*(?:[,;|&]|\band\b)\s*", re.IGNORECASE)
_BY_RE = re.compile(r"^(?:by|par|von|por|di|door|av|af)\s+", re.IGNORECASE)
_EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$")


def norm_name(name: str) -> str:
    name = unicodedata.normalize("NFKC", name or "").lower()
    name = " ".join(name.split())
    return _EDGE_PUNCT_RE.sub("", _BY_RE.sub("", name))


def split_gold_authors(raw: str) -> list:
    names = []
    for part in _SPLIT_RE.split(_BY_RE.sub("", (raw or "").strip())):
        part = part.strip()
        if part and "@" not in part and "://" not in part:
            names.append(part)
    return names


def load_pages(limit: int | None = None) -> list:
    gold = {}
    for line in (NEWS_DIR / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[row["path"]] = row
    pages = []
    with open(NEWS_DIR / "manifest.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            kind = row["gold"].split(":")[0]
            page = {"path": row["path"], "source": kind or "none", "url": row["url"] or "",
                    "title": row["gold_title"] or None, "authors": None, "date": None,
                    "crawl": row["crawl_date"] or None}
            if kind == "fundus" and row["path"] in gold:
                page["authors"] = [a for a in gold[row["path"]].get("authors") or [] if a]
                page["date"] = gold[row["path"]].get("publishing_date")
            elif kind in ("postlight", "readability") and row["gold_authors"]:
                page["authors"] = split_gold_authors(row["gold_authors"])
            if kind == "readability":
                meta = NEWS_DIR / Path(row["path"]).parent / "expected-metadata.json"
                if meta.exists():
                    page["date"] = json.loads(meta.read_text(encoding="utf-8")).get("publishedTime")
            if page["title"] or page["authors"] or page["date"]:
                pages.append(page)
    # Quick mode takes a spread of sources, not just the first publisher folder.
    if limit:
        step = max(1, len(pages) // limit)
        pages = pages[::step][:limit]
    for page in pages:
        page["raw"] = read_gz(NEWS_DIR / page["path"])
    return pages


def to_utc(value):
    """A tool's date (str, datetime or None) as an aware UTC datetime; naive values are taken as UTC."""
    from transforms.extract.dates import parse_datetime

    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    parsed = parse_datetime(str(value))
    if parsed is None:
        # readability's "2021-11-01T10:52:50+0100" and similar: try a few more spellings.
        text = str(value).strip()
        for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"):
            try:
                parsed = (datetime.strptime(text, fmt), True)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    value = parsed[0]
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def wiredesk_meta(html: str, url: str) -> dict:
    from transforms.extract.page import extract_page
    from transforms.extract.results import ExtractionError

    try:
        page = extract_page(html, url)
    except ExtractionError:
        return {"title": None, "authors": [], "date": None, "date_source": None, "rejected": True}
    return {"title": page.title, "authors": page.authors, "date": page.published_at,
            "date_source": page.published_at_source}


def author_f1(gold: list, pred: list) -> float:
    g = {norm_name(n) for n in gold} - {""}
    p = {norm_name(n) for n in pred or []} - {""}
    if not g:
        return 1.0 if not p else 0.0
    tp = len(g & p)
    return 2 * tp / (len(g) + len(p)) if tp else 0.0


def run(pages: list) -> dict:
    from transforms.extract.decode import decode_html
    from transforms.extract.results import ExtractionError

    scorer = load_scorer()
    notes, tools = {}, {OURS: wiredesk_meta}
    for peer in load_peers():
        notes[peer.name] = peer.describe()
        if peer.available:
            tools[peer.name] = peer.run
    now = datetime.now(timezone.utc)
    scores = {name: {"title": [], "authors": [], "date": [], "seconds": [], "errors": [], "misses": []}
              for name in tools}
    checks = {"dates": 0, "without_source": 0, "future": 0, "after_crawl": 0, "rejected": 0, "sources": {}}
    for page in pages:
        try:
            html = decode_html(page["raw"], None, "text/html")
        except ExtractionError:
            html = page["raw"].decode("utf-8", "replace")
        gold_date = to_utc(page["date"])
        for name, fn in tools.items():
            out, seconds, error = safe_run(fn, html, page["url"])
            out = out or {}
            s = scores[name]
            s["seconds"].append(seconds)
            if error:
                s["errors"].append(f"{page['path']}: {error[:120]}")
            if page["title"]:
                hit = scorer.norm_title(out.get("title") or "") == scorer.norm_title(page["title"])
                s["title"].append(float(hit))
                if not hit:
                    s["misses"].append(("title", page["path"], page["title"], out.get("title")))
            if page["authors"]:
                f1 = author_f1(page["authors"], out.get("authors"))
                s["authors"].append(f1)
                if f1 < 1:
                    s["misses"].append(("authors", page["path"], page["authors"], out.get("authors")))
            pred_date = to_utc(out.get("date"))
            if gold_date is not None:
                hit = pred_date is not None and abs(pred_date - gold_date) <= DAY
                s["date"].append(float(hit))
                if not hit:
                    s["misses"].append(("date", page["path"], str(gold_date), str(out.get("date"))))
            if name == OURS:
                checks["rejected"] += bool(out.get("rejected"))
                if pred_date is not None:
                    checks["dates"] += 1
                    checks["without_source"] += not out.get("date_source")
                    checks["sources"][out.get("date_source")] = checks["sources"].get(out.get("date_source"), 0) + 1
                    checks["future"] += pred_date > now
                    crawl = to_utc(page["crawl"])
                    checks["after_crawl"] += crawl is not None and pred_date > crawl + DAY
    return {"scores": scores, "notes": notes, "checks": checks}


def _mean(values: list) -> float:
    return sum(values) / len(values) if values else float("nan")


def summarise(outcome: dict) -> dict:
    out = {}
    for name, s in outcome["scores"].items():
        out[name] = {field: {"rate": _mean(s[field]), "pm": bootstrap(s[field], _mean), "n": len(s[field])}
                     for field in ("title", "authors", "date")}
        out[name]["ms_per_page"] = median_ms(s["seconds"])
        out[name]["errors"] = len(s["errors"])
    return out


def format_report(summary: dict, outcome: dict, pages: int) -> str:
    any_tool = next(iter(summary.values()))
    lines = [f"news metadata: {pages} pages; title exact on {any_tool['title']['n']}, author F1 on "
             f"{any_tool['authors']['n']}, date within 24h on {any_tool['date']['n']} (± = half 95% bootstrap "
             f"interval; ms = median per page)",
             f"{'tool':18s} {'title exact':>16s} {'author F1':>16s} {'date <=24h':>16s} {'ms/page':>8s} errors"]
    for name in [OURS, *outcome["notes"]]:
        s = summary.get(name)
        if s is None:
            lines.append(f"{name:18s} unavailable: {outcome['notes'][name]}")
            continue
        cells = " ".join(f"{s[f]['rate']:.4f} ±{s[f]['pm']:.4f}" for f in ("title", "authors", "date"))
        lines.append(f"{name:18s} {cells} {s['ms_per_page']:8.1f} {s['errors']}")
    lines.append("versions: " + "; ".join(outcome["notes"].values()))
    peers = {k: v for k, v in summary.items() if k != OURS}
    ours = summary[OURS]
    for field, label in (("title", "title exact"), ("authors", "author F1")):
        if peers:
            best = max(peers, key=lambda k: peers[k][field]["rate"])
            margin = ours[field]["rate"] - peers[best][field]["rate"]
            lines.append(f"{label}: wiredesk {ours[field]['rate']:.4f} vs best peer {best} "
                         f"{peers[best][field]['rate']:.4f} = {100 * margin:+.1f} points "
                         f"(target >= +5: {'met' if margin >= 0.05 else 'NOT met'})")
        else:
            lines.append(f"{label}: no peer available to compare with")
    date_rate = ours["date"]["rate"]
    c = outcome["checks"]
    lines.append(f"dates within 24h: wiredesk {date_rate:.4f} (target >= 0.98: "
                 f"{'met' if date_rate >= 0.98 else 'NOT met'})")
    lines.append(f"wiredesk dates: {c['dates']} given, {c['without_source']} without a source, {c['future']} in the "
                 f"future, {c['after_crawl']} later than crawl date + 24h; sources "
                 + ", ".join(f"{k}={v}" for k, v in sorted(c["sources"].items(), key=lambda kv: -kv[1]))
                 + f"; {c['rejected']} pages rejected as no article")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only {QUICK_PAGES} pages (CI smoke check)")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--misses", help="print this tool's misses (e.g. wiredesk)")
    args = parser.parse_args(argv)
    pages = load_pages(QUICK_PAGES if args.quick else None)
    outcome = run(pages)
    summary = summarise(outcome)
    print(format_report(summary, outcome, len(pages)))
    if args.misses and args.misses in outcome["scores"]:
        for miss in outcome["scores"][args.misses]["misses"]:
            print("  miss", *miss, sep=" | ")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "checks": outcome["checks"]}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
