"""Helpers of the hostile-web pipeline tests: pages, feeds, fast limits, a run and what it left behind."""
from __future__ import annotations

import hashlib
import random
from html import escape
from pathlib import Path

import duckdb

from pipeline.run import run_pipeline
from pipeline.summary import conservation
from schemas.settings import Settings

# Timeouts and retries small enough that a run over dozens of hostile URLs takes seconds.
FAST = Settings().with_fetch(
    connect_timeout_s=0.5,
    read_timeout_s=0.6,
    total_deadline_s=1.5,
    max_retries=2,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    max_retry_after_s=1.0,
    max_body_bytes=64 * 1024,
    max_decoded_bytes=256 * 1024,
    max_feed_bytes=256 * 1024,
    max_robots_bytes=16 * 1024,
    max_crawl_delay_s=0.3,
    circuit_breaker_failures=3,
).replace(warehouse=Settings().warehouse.__class__(lock_wait_s=5.0))

_WORDS = ("council harbour minister budget river railway farmers storm court election market hospital "
          "school bridge festival report police mayor village energy drought tender contract union strike "
          "export airport museum coastal inquiry ministry province district rainfall shipment vaccine "
          "factory highway tribunal ceasefire harvest monsoon reservoir pension tariff").split()


def article_text(seed: str, words: int = 160) -> str:
    """A body of distinct prose per seed, so no two test articles look like the same story."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    sentences = []
    while sum(len(s.split()) for s in sentences) < words:
        n = rng.randint(8, 16)
        sentence = " ".join(rng.choice(_WORDS) for _ in range(n))
        sentences.append(sentence.capitalize() + f" {seed.split('/')[-1]}-{len(sentences)}.")
    paragraphs = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
    return "\n\n".join(paragraphs)


def article_html(title: str, seed: str | None = None, *, charset: str | None = "utf-8", body_text: str | None = None,
                 published: str = "2026-03-05T10:00:00+00:00") -> str:
    text = body_text if body_text is not None else article_text(seed or title)
    paras = "".join(f"<p>{escape(p)}</p>\n" for p in text.split("\n\n"))
    meta = f'<meta charset="{charset}">' if charset else ""
    return (f"<!DOCTYPE html><html lang=\"en\"><head>{meta}<title>{escape(title)}</title>"
            f'<meta property="article:published_time" content="{published}"></head><body>'
            f"<header><nav><a href=\"/\">Home</a></nav></header>"
            f"<article><h1>{escape(title)}</h1>{paras}</article>"
            f"<footer>Copyright the test outlet</footer></body></html>")


def rss(items: list, *, title: str = "Test feed", prolog: str = "") -> bytes:
    """RSS 2.0 with items given as dicts (title, link, guid, description) or raw XML strings."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        parts = [f"<title>{escape(item.get('title', 'untitled'))}</title>"]
        if item.get("link") is not None:
            parts.append(f"<link>{escape(item['link'])}</link>")
        if item.get("guid") is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>')
        parts.append(f"<description>{escape(item.get('description', 'summary'))}</description>")
        parts.append("<pubDate>Thu, 05 Mar 2026 10:00:00 GMT</pubDate>")
        out.append("<item>" + "".join(parts) + "</item>")
    return (f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}'
            f'<rss version="2.0"><channel><title>{escape(title)}</title><link>http://example.org/</link>'
            f'<description>d</description>{"".join(out)}</channel></rss>').encode("utf-8")


def run(tmp: Path, feeds: list, warehouse: Path, *, proxy: str | None = None, allow_private: bool = False,
        settings: Settings = FAST, extra: tuple = ()) -> dict:
    """One pipeline run over feed URLs; returns its counters."""
    argv = ["--runner", "FnApiRunner", "--warehouse", str(warehouse)]
    for feed in feeds:
        argv += ["--feeds", feed]
    if proxy:
        argv += ["--proxy", proxy]
    if allow_private:
        argv.append("--allow_private_networks")
    return run_pipeline(argv + list(extra), settings)["counters"]


def table(warehouse: Path, sql: str) -> list:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def snapshot(warehouse: Path) -> dict:
    """Row counts and ids of every table, to compare a run with its rerun."""
    return {
        "articles": sorted(r[0] for r in table(warehouse, "SELECT article_id FROM articles")),
        "dead_letters": sorted(r[0] for r in table(warehouse, "SELECT dead_letter_id FROM dead_letters")),
        "feed_state": len(table(warehouse, "SELECT feed_url FROM feed_state")),
    }


def dead_by_url(warehouse: Path) -> dict:
    """{url or feed_url: (stage, error_class)} of every dead letter."""
    rows = table(warehouse, "SELECT stage, coalesce(url, feed_url), error_class FROM dead_letters")
    return {url: (stage, reason) for stage, url, reason in rows}


def articles_by_url(warehouse: Path) -> dict:
    return {url: (title, body) for url, title, body in table(warehouse, "SELECT url, title, body FROM articles")}


def check_balanced(counters: dict) -> dict:
    cons = conservation(counters)
    assert cons["balanced"], cons
    return cons


def two_runs(tmp: Path, feeds: list, **kwargs) -> dict:
    """Run twice into one warehouse; the rerun must balance and add nothing."""
    warehouse = tmp / "warehouse.duckdb"
    first = run(tmp, feeds, warehouse, **kwargs)
    after_first = snapshot(warehouse)
    second = run(tmp, feeds, warehouse, **kwargs)
    after_second = snapshot(warehouse)
    return {"warehouse": warehouse, "first": first, "second": second, "after_first": after_first,
            "after_second": after_second, "dead": dead_by_url(warehouse), "articles": articles_by_url(warehouse)}
