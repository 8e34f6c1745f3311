"""Every saved analysis in pipeline/queries/ returns the expected rows on DuckDB and on the BigQuery emulator.

Both warehouses hold the same dev syndication feeds (tests/emulators/dev_runs.py). The expected
rows are computed here in plain Python from the DuckDB articles, so each query is checked
against its meaning, not only against the other engine.
"""
from __future__ import annotations

import collections
import datetime as dt

import pytest

from pipeline import queries
from tests.emulators.bqemulator import bigquery_emulator  # noqa: F401 - the session fixture
from tests.emulators.dev_runs import dev_runs
from tests.support.corpus import SYNDICATION_DEV

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def dev(bigquery_emulator, syndication_server, tmp_path_factory):  # noqa: F811
    return dev_runs(bigquery_emulator, syndication_server, SYNDICATION_DEV, tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="module")
def articles(dev):
    import duckdb

    con = duckdb.connect(str(dev["duckdb"]), read_only=True)
    try:
        cur = con.execute("SELECT * FROM articles")
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        cur = con.execute("SELECT * FROM dead_letters")
        cols = [d[0] for d in cur.description]
        dead = [dict(zip(cols, r)) for r in cur.fetchall()]
    finally:
        con.close()
    return {"articles": rows, "dead_letters": dead}


def _norm(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC)
    if isinstance(value, float):
        return round(value, 1)
    if hasattr(value, "__float__") and not isinstance(value, (int, bool)):
        return round(float(value), 1)  # DuckDB DECIMAL
    return value


def both(dev, name):
    """(DuckDB rows, BigQuery rows) of a saved analysis, as lists of dicts with normalised values."""
    out = []
    for warehouse in (str(dev["duckdb"]), dev["bigquery"]):
        cols, rows = queries.run(warehouse, name)
        out.append([{c: _norm(v) for c, v in zip(cols, r)} for r in rows])
    return out


def test_every_saved_query_has_a_test_and_a_summary():
    tested = {n[len("test_"):] for n in globals() if n.startswith("test_") and n[len("test_"):] in queries.names()}
    assert tested == set(queries.names())
    for name in queries.names():
        assert queries.summary(name)
        for dialect in queries.DIALECTS:
            assert "FROM" in queries.sql(name, dialect)


def test_articles_per_agency_per_day(dev, articles):
    duck, bq = both(dev, "articles_per_agency_per_day")
    groups = collections.defaultdict(list)
    for a in articles["articles"]:
        groups[(a["published_at"].astimezone(UTC).date(), a["agency"] or "(staff)")].append(a)
    expected = sorted(({"day": day, "agency": agency, "articles": len(rows),
                        "outlets": len({r["outlet"] for r in rows}), "stories": len({r["story_id"] for r in rows})}
                       for (day, agency), rows in groups.items()),
                      key=lambda r: (r["day"], -r["articles"], r["agency"]))
    assert len(expected) > 5
    assert duck == expected
    assert bq == expected


def test_syndication_lag(dev, articles):
    duck, bq = both(dev, "syndication_lag")
    by_id = {a["article_id"]: a for a in articles["articles"]}
    expected = []
    for a in articles["articles"]:
        if a["duplicate_of"]:
            first = by_id[a["duplicate_of"]]
            expected.append({
                "story_id": a["story_id"], "agency": a["story_agency"] or a["agency"] or first["agency"],
                "first_outlet": first["outlet"], "outlet": a["outlet"], "article_id": a["article_id"],
                "title": a["title"],
                "lag_minutes": round((a["published_at"] - first["published_at"]).total_seconds() / 60.0, 1)})
    expected.sort(key=lambda r: (-r["lag_minutes"], r["story_id"], r["article_id"]))
    assert len(expected) >= 20 and all(r["lag_minutes"] >= 0 for r in expected)
    assert duck == expected
    assert bq == expected


def test_widest_reach_stories(dev, articles):
    duck, bq = both(dev, "widest_reach_stories")
    stories = collections.defaultdict(list)
    for a in articles["articles"]:
        stories[a["story_id"]].append(a)
    expected = []
    for story_id, rows in stories.items():
        outlets = {r["outlet"] for r in rows}
        if len(outlets) < 2:
            continue
        first = min(rows, key=lambda r: (r["published_at"], r["article_id"]))
        agency = max((r["story_agency"] for r in rows if r["story_agency"]), default=None) or max(
            (r["agency"] for r in rows if r["agency"]), default=None)
        expected.append({"story_id": story_id, "title": first["title"], "agency": agency,
                         "outlet_count": len(outlets), "copies": len(rows), "first_outlet": first["outlet"],
                         "first_published_at": first["published_at"].astimezone(UTC),
                         "last_published_at": max(r["published_at"] for r in rows).astimezone(UTC)})
    expected.sort(key=lambda r: (-r["outlet_count"], -r["copies"], r["first_published_at"], r["story_id"]))
    expected = expected[:50]
    assert len(expected) >= 10 and expected[0]["outlet_count"] == 3
    assert duck == expected
    assert bq == expected


def test_outlets_by_agency(dev, articles):
    duck, bq = both(dev, "outlets_by_agency")
    per_outlet = collections.Counter(a["outlet"] for a in articles["articles"])
    groups = collections.defaultdict(list)
    for a in articles["articles"]:
        if a["agency"]:
            groups[(a["outlet"], a["agency"])].append(a)
    expected = sorted(({"outlet": o, "agency": ag, "articles": len(rows),
                        "republished": sum(1 for r in rows if r["duplicate_of"]),
                        "pct_of_outlet": round(100.0 * len(rows) / per_outlet[o], 1)}
                       for (o, ag), rows in groups.items()),
                      key=lambda r: (r["outlet"], -r["articles"], r["agency"]))
    assert len({r["outlet"] for r in expected}) >= 3
    assert duck == expected
    assert bq == expected


def test_dead_letters_by_reason(dev, articles):
    duck, bq = both(dev, "dead_letters_by_reason")
    groups = collections.defaultdict(list)
    for d in articles["dead_letters"]:
        groups[(d["stage"], d["error_class"])].append(d)
    expected = sorted(({"stage": s, "error_class": e, "dead_letters": len(rows),
                        "attempts": sum(r["attempt"] for r in rows), "feeds": len({r["feed_url"] for r in rows}),
                        "last_failed_at": max(r["failed_at"] for r in rows).astimezone(UTC)}
                       for (s, e), rows in groups.items()),
                      key=lambda r: (-r["dead_letters"], r["stage"], r["error_class"]))
    assert expected and expected[0]["error_class"] == "http_404"
    assert duck == expected
    # The BigQuery warehouse had a rerun: the same dead letter, one more attempt, a later time.
    ignore = ("attempts", "last_failed_at")
    assert [{k: v for k, v in r.items() if k not in ignore} for r in bq] == \
        [{k: v for k, v in r.items() if k not in ignore} for r in expected]
    assert [r["attempts"] for r in bq] == [r["attempts"] * 2 for r in expected]


def test_paywalled_per_outlet(dev, articles):
    duck, bq = both(dev, "paywalled_per_outlet")
    groups = collections.defaultdict(list)
    for a in articles["articles"]:
        groups[a["outlet"]].append(a)
    expected = []
    for outlet, rows in groups.items():
        paywalled = sum(1 for r in rows if r["is_accessible_for_free"] is False)
        expected.append({"outlet": outlet, "articles": len(rows),
                         "declared": sum(1 for r in rows if r["is_accessible_for_free"] is not None),
                         "paywalled": paywalled, "truncated": sum(1 for r in rows if r["truncated"]),
                         "pct_paywalled": round(100.0 * paywalled / len(rows), 1)})
    expected.sort(key=lambda r: (-r["pct_paywalled"], -r["articles"], r["outlet"]))
    # Every article row of this run carries the flags (the dev pages declare no paywall), none NULL.
    assert len(expected) >= 3 and all(a["truncated"] is not None for a in articles["articles"])
    assert duck == expected
    assert bq == expected
    # Flag values themselves, on real paywalled pages: tests/transforms/extract/test_paywall.py.


def test_query_cli_runs_a_saved_analysis(dev, capsys):
    from pipeline.cli import main

    assert main(["query", "--warehouse", dev["bigquery"], "--saved", "widest_reach_stories"]) == 0
    out_bq = capsys.readouterr().out
    assert main(["query", "--warehouse", str(dev["duckdb"]), "--saved", "widest_reach_stories"]) == 0
    out_duck = capsys.readouterr().out
    assert "outlet_count" in out_bq and out_bq.splitlines()[:3] == out_duck.splitlines()[:3]
    assert main(["query", "--warehouse", str(dev["duckdb"]), "--saved", "no_such_query"]) == 2
    assert "no saved query" in capsys.readouterr().err
