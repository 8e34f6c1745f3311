"""What the report shows, read from a DuckDB warehouse in one pass of SQL."""
from __future__ import annotations

from schemas.errors import WarehouseError
from transforms.warehouse import duckdb_store

STAFF = "(staff)"  # the series of articles without an agency credit
OTHER = "other"  # the series the smallest names are folded into
MAX_SERIES = 8
TOP_STORIES = 20
REQUIRED_TABLES = ("articles", "dead_letters", "feed_state")


def _time_unit(first, last) -> tuple:
    span = (last - first).total_seconds() if first and last else 0
    if span <= 3 * 86400:
        return "hour", "%m-%d %H:00"
    if span <= 120 * 86400:
        return "day", "%Y-%m-%d"
    if span <= 3 * 365 * 86400:
        return "week", "%Y-%m-%d"
    return "month", "%Y-%m"


def top_names(pairs: list, limit: int = MAX_SERIES) -> list:
    """Names ordered by count, the first `limit - 1` kept when there are more (the rest become 'other')."""
    counts: dict = {}
    for name, n in pairs:
        counts[name] = counts.get(name, 0) + n
    ordered = sorted(counts, key=lambda k: (-counts[k], k == STAFF, k))
    return ordered if len(ordered) <= limit else ordered[: limit - 1]


def gather(con) -> dict:
    """Everything the report shows, read from an open warehouse connection."""
    q = lambda sql, *params: con.execute(sql, list(params)).fetchall()  # noqa: E731
    con.execute("SET TimeZone = 'UTC'")
    data = {}
    data["totals"] = dict(zip(
        ("articles", "outlets", "agencies", "first", "last"),
        q("SELECT count(*), count(DISTINCT outlet), count(DISTINCT agency), min(published_at), max(published_at) "
          "FROM articles")[0]))
    data["totals"].update(zip(("stories", "multi_outlet"),
                              q("SELECT count(*), count(*) FILTER (WHERE outlet_count > 1) FROM stories")[0]))
    data["totals"]["dead_letters"] = q("SELECT count(*) FROM dead_letters")[0][0]
    data["totals"]["feeds"] = q("SELECT count(*) FROM feed_state")[0][0]
    unit, label_fmt = _time_unit(data["totals"]["first"], data["totals"]["last"])
    data["time_unit"] = unit
    data["over_time"] = [(b.strftime(label_fmt), a, n) for b, a, n in q(
        f"SELECT date_trunc('{unit}', timezone('UTC', published_at)) AS b, coalesce(agency, '{STAFF}'), count(*) "
        "FROM articles WHERE published_at IS NOT NULL GROUP BY ALL ORDER BY b")]
    data["undated"] = q("SELECT count(*) FROM articles WHERE published_at IS NULL")[0][0]
    data["agency_outlet"] = q(
        f"SELECT coalesce(agency, '{STAFF}'), coalesce(outlet, '?'), count(*) FROM articles GROUP BY ALL ORDER BY 3 DESC")
    data["lags"] = q(
        f"SELECT coalesce(s.agency, a.agency, '{STAFF}'), epoch(a.published_at) - epoch(s.first_published_at) "
        "FROM articles a JOIN stories s USING (story_id) "
        "WHERE a.article_id <> s.first_article_id AND a.published_at IS NOT NULL AND s.first_published_at IS NOT NULL")
    data["stories"] = q(
        "SELECT story_id, title, first_url, agency, outlet_count, copies, first_published_at, last_published_at "
        "FROM stories ORDER BY outlet_count DESC, copies DESC, first_published_at NULLS LAST, story_id LIMIT ?",
        TOP_STORIES)
    ids = [row[0] for row in data["stories"]]
    first_seen: dict = {}
    if ids:
        for story_id, outlet, seen in q(
                "SELECT story_id, coalesce(outlet, '?'), min(published_at) FROM articles "
                "WHERE list_contains(?, story_id) GROUP BY ALL ORDER BY 3 NULLS LAST, 2", ids):
            first_seen.setdefault(story_id, []).append((outlet, seen))
    data["story_outlets"] = first_seen
    data["paywall"] = paywall_by_outlet(con)
    data["dead_by_reason"] = q("SELECT stage, error_class, count(*) FROM dead_letters GROUP BY ALL "
                               "ORDER BY 3 DESC, 1, 2")
    data["dead_examples"] = q("SELECT stage, error_class, coalesce(url, feed_url), message, failed_at "
                              "FROM dead_letters ORDER BY failed_at DESC NULLS LAST, stage LIMIT 25")
    data["feeds"] = q(
        "SELECT f.feed_url, f.last_status, f.consecutive_failures, f.last_polled_at, f.entries_seen, "
        "  (SELECT count(*) FROM articles a WHERE a.feed_url = f.feed_url), "
        "  (SELECT count(*) FROM dead_letters d WHERE d.feed_url = f.feed_url) "
        "FROM feed_state f ORDER BY f.consecutive_failures DESC, f.last_status NOT BETWEEN 200 AND 399 DESC, "
        "f.feed_url")
    return data


def paywall_by_outlet(con) -> list | None:
    """(outlet, articles, declared, paywalled, truncated) per outlet, most paywalled first; None when the
    warehouse predates the paywall columns (a report opens the file read-only, so it cannot add them)."""
    have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'articles'").fetchall()}
    if not {"is_accessible_for_free", "truncated"} <= have:
        return None
    return con.execute(
        "SELECT coalesce(outlet, '?'), count(*), count(is_accessible_for_free), "
        "count(*) FILTER (WHERE NOT is_accessible_for_free), count(*) FILTER (WHERE truncated) "
        "FROM articles GROUP BY ALL ORDER BY 4 DESC, 2 DESC, 1").fetchall()


def read_warehouse(warehouse: str) -> dict:
    """gather() on the DuckDB file, or a WarehouseError if it is missing or not a wiredesk warehouse."""
    con = duckdb_store.connect(warehouse, read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in REQUIRED_TABLES if t not in present]
        if missing or "stories" not in present:
            raise WarehouseError(
                f"{warehouse}: not a wiredesk warehouse (missing {', '.join(missing or ['stories'])}); "
                "run `wiredesk run` or `wiredesk demo` to create one")
        return gather(con)
    finally:
        con.close()
