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


def warehouse_facts(con, since=None) -> dict:
    """What the summary reads back: the warehouse's size, and this run's articles, stories and failures.

    `since` (an aware datetime: the run's start) limits everything but the article total to rows
    this run wrote and the stories they joined, so the summary costs what the run wrote, not what
    the warehouse holds (at a million stored articles the whole-warehouse version took 5 s and
    1.3 GB after every run). Portable SQL, so DuckDB and BigQuery give the same facts.
    """
    def q(sql, *params):
        return con.execute(sql, list(params) if params else None).fetchall()

    ran, failed, params = ("", "", ()) if since is None else ("WHERE ingested_at >= ?", "WHERE failed_at >= ?",
                                                              (since,))
    copies = q(f"SELECT story_id, title, outlet, published_at, article_id, story_agency, agency FROM articles "
               f"WHERE story_id IN (SELECT story_id FROM articles {ran})", *params)
    stories: dict = {}  # story id -> [(first copy's order, title), outlets, story agencies, agencies]
    for story_id, title, outlet, published, article_id, story_agency, agency in copies:
        story = stories.setdefault(story_id, [None, set(), set(), set()])
        order = (published is None, published, article_id)
        if story[0] is None or order < story[0][0]:
            story[0] = (order, title)
        story[1].add(outlet)
        story[2].update([story_agency] if story_agency else [])
        story[3].update([agency] if agency else [])
    widest = sorted(stories.values(), key=lambda s: (-len(s[1]), s[0][0]))[:5]
    return {
        "articles": q("SELECT count(*) FROM articles")[0][0],
        "run_articles": q(f"SELECT count(*) FROM articles {ran}", *params)[0][0],
        "stories": len(stories),
        "multi_outlet_stories": sum(len(s[1]) > 1 for s in stories.values()),
        "dead_letters": q(f"SELECT stage, error_class, count(*) FROM dead_letters {failed} "
                          f"GROUP BY stage, error_class ORDER BY 3 DESC, 1, 2", *params),
        "agencies": q(f"SELECT coalesce(agency, '(none)') AS a, count(*) FROM articles {ran} "
                      f"GROUP BY a ORDER BY 2 DESC, 1", *params),
        # As the stories view: the story's agency, else the agency its copies credit.
        "widest": [(first[1], len(outlets), max(story_agencies or agencies, default=None))
                   for first, outlets, story_agencies, agencies in widest],
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
    lines.append(f"warehouse: {_plural(facts['articles'], 'article')}; this run wrote "
                 f"{_plural(facts.get('run_articles', facts['articles']), 'article')} in "
                 f"{_plural(facts['stories'], 'story', 'stories')} "
                 f"({facts['multi_outlet_stories']} carried by more than one outlet)")
    if facts["dead_letters"]:
        lines.append("dead letters by reason:")
        lines.extend(f"  {stage}/{reason}: {n}" for stage, reason, n in facts["dead_letters"])
    lines.append("articles by agency: " + (", ".join(f"{a} {n}" for a, n in facts["agencies"]) or "(none this run)"))
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


def _plural(n: int, noun: str, plural: str | None = None) -> str:
    """'1 outlet', '3 outlets'; '1 story', '2 stories'."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
