"""The end-of-run summary: counters per stage, dead letters by reason, agencies and stories."""
from __future__ import annotations

from transforms.beam_common.metrics import NAMESPACE

CONSERVATION_SKIPS = ("read_feeds.skip.already_stored", "read_feeds.skip.repeated_link",
                      "read_feeds.skip.seen_entry",  # streaming: re-listed by a feed, emitted at an earlier poll
                      "fetch.skip.robots_disallowed", "dedup.skip.already_stored",
                      "dedup.skip.repeated_canonical_url")
ENTRY_DEAD_STAGES = ("fetch", "extract", "clean", "tag")


def run_counters(result) -> dict:
    """{'stage.name': value} for every wiredesk counter of a finished run."""
    out: dict = {}
    for c in result.metrics().query()["counters"]:
        ns = c.key.metric.namespace
        if not ns.startswith(NAMESPACE + "."):
            continue
        name = ns[len(NAMESPACE) + 1:] + "." + c.key.metric.name
        value = c.committed if c.committed is not None else c.attempted
        out[name] = out.get(name, 0) + (value or 0)
    return out


def conservation(counters: dict) -> dict:
    """entries = articles + known duplicates/stored + dead letters + counted skips, from the counters."""
    entries = counters.get("read_feeds.entries", 0)
    dead = counters.get("read_feeds.entries_invalid", 0) + sum(
        counters.get(f"{s}.dead_letters", 0) for s in ENTRY_DEAD_STAGES)
    skips = sum(counters.get(k, 0) for k in CONSERVATION_SKIPS)
    articles = counters.get("dedup.articles", 0)
    return {"entries": entries, "articles": articles, "dead_letters": dead, "skipped": skips,
            "balanced": entries == articles + dead + skips}


def warehouse_facts(con) -> dict:
    """Totals read back from the warehouse, for the summary and the report."""
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    return {
        "articles": q("SELECT count(*) FROM articles")[0][0],
        "stories": q("SELECT count(*) FROM stories")[0][0],
        "multi_outlet_stories": q("SELECT count(*) FROM stories WHERE outlet_count > 1")[0][0],
        "dead_letters": q("SELECT stage, error_class, count(*) FROM dead_letters GROUP BY ALL ORDER BY 3 DESC, 1, 2"),
        "agencies": q("SELECT coalesce(agency, '(none)'), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1"),
        "widest": q("SELECT title, outlet_count, agency FROM stories ORDER BY outlet_count DESC, "
                    "first_published_at LIMIT 5"),
    }


def format_summary(counters: dict, facts: dict, elapsed_s: float) -> str:
    lines = [f"wiredesk run finished in {elapsed_s:.1f}s"]
    stages = {}
    for key, value in sorted(counters.items()):
        stage, name = key.split(".", 1)
        stages.setdefault(stage, []).append(f"{name}={value}")
    lines.append("counters per stage:")
    for stage in ("read_feeds", "fetch", "extract", "clean", "tag", "dedup", "write"):
        if stage in stages:
            lines.append(f"  {stage:<10} " + ", ".join(stages[stage]))
    cons = conservation(counters)
    lines.append(f"entries {cons['entries']} = articles {cons['articles']} + dead letters {cons['dead_letters']}"
                 f" + skipped/known {cons['skipped']}  [{'balanced' if cons['balanced'] else 'NOT BALANCED'}]")
    lines.append(f"warehouse: {facts['articles']} articles, {facts['stories']} stories "
                 f"({facts['multi_outlet_stories']} carried by more than one outlet)")
    if facts["dead_letters"]:
        lines.append("dead letters by reason:")
        lines.extend(f"  {stage}/{reason}: {n}" for stage, reason, n in facts["dead_letters"])
    lines.append("articles by agency: " + ", ".join(f"{a} {n}" for a, n in facts["agencies"]))
    if facts["widest"]:
        lines.append("widest stories:")
        lines.extend(f"  {_plural(n, 'outlet')}  [{agency or 'staff'}]  {title}"
                     for title, n, agency in facts["widest"])
    return "\n".join(lines)


def format_table(columns: list, rows: list, max_width: int = 60) -> str:
    """A plain-text table, the way the duckdb CLI prints one."""
    def cell(v):
        s = "NULL" if v is None else str(v)
        s = s.replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"
    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in body]) for i, c in enumerate(columns)]
    sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [sep, "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |", sep]
    out.extend("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |" for r in body)
    out.append(sep)
    out.append(f"({_plural(len(rows), 'row')})")
    return "\n".join(out)


def _plural(n: int, noun: str) -> str:
    """'1 outlet', '3 outlets'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
