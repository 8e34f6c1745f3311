"""The paywall columns end to end: labelled pages over local HTTP into a schema-2 DuckDB file, upgraded by the run.

Then the report and the saved query read the share of paywalled articles per outlet from it.
"""
import gzip

import duckdb
import pytest

from pipeline import queries, report
from pipeline.corpus_server import CorpusServer, Route
from pipeline.run import run_pipeline
from schemas.warehouse import SCHEMA_VERSION
from tests.support.corpus import CORPUS
from tests.transforms.warehouse.test_columns import PAYWALL, old_warehouse

FEED_URL = "http://paywall-feed.example/rss.xml"
# (corpus file, the page's URL served over http, the flag paywall.csv expects, whether a teaser)
PAGES = [
    ("aeb/html/042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856.html.gz",
     "http://www.wsj.com/articles/google-stadia-microsoft-xcloud-apple-arcade-so-many-ways-to-playand-pay-11574168580",
     False, True),
    ("news/fundus/us/TheIntercept_2024_02_28.html.gz",
     "http://theintercept.com/2024/02/28/aaron-bushnell-reddit-fire-protest-israel-palestine/", False, False),
    ("news/fundus/uk/TheGuardian_2024_02_24.html.gz",
     ("http://www.theguardian.com/world/2024/feb/24/death-toll-in-valencia-fire-rises-to-10-as-remains-of-last-"
      "missing-person-found"), True, False),
]


def _feed() -> bytes:
    items = "".join(f"<item><title>Story {i}</title><link>{url}</link><guid>{url}</guid></item>"
                    for i, (_, url, _, _) in enumerate(PAGES))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Paywall test</title>'
            f"<link>http://paywall-feed.example/</link>{items}</channel></rss>").encode()


@pytest.fixture(scope="module")
def paywall_run(tmp_path_factory, corpus):
    tmp = tmp_path_factory.mktemp("paywall")
    warehouse = tmp / "v2.duckdb"
    old_warehouse(warehouse, {"articles": PAYWALL}, version=2)
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO articles (article_id, url, outlet, title, body, published_at, story_id) VALUES "
                "('old1', 'https://old.example/1', 'old.example', 'Stored before schema 3', "
                "'A body stored by an older wiredesk, long before paywalls were read.', "
                "TIMESTAMPTZ '2024-01-01 10:00:00+00', 'old1')")
    con.close()
    before = report.render(report.data.read_warehouse(str(warehouse)), str(warehouse))
    routes = {FEED_URL: Route(body=_feed(), content_type="application/rss+xml")}
    for rel, url, _, _ in PAGES:
        routes[url] = Route(body=gzip.decompress((CORPUS / rel).read_bytes()), content_type="text/html; charset=utf-8")
    with CorpusServer(routes) as server:
        outcome = run_pipeline(["--runner", "FnApiRunner", "--feeds", FEED_URL, "--warehouse", str(warehouse),
                                "--proxy", server.url, "--progress", "off"])
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT url, is_accessible_for_free, paywall_evidence, truncated, truncated_reason, outlet "
            "FROM articles").fetchall()}
        version = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        con.close()
    return {"warehouse": warehouse, "rows": rows, "version": version, "outcome": outcome, "before": before}


def test_the_run_upgrades_the_v2_file_and_the_old_row_reads_null(paywall_run):
    assert paywall_run["version"] == str(SCHEMA_VERSION)
    assert paywall_run["rows"]["https://old.example/1"][:4] == (None, None, None, None)
    assert len(paywall_run["rows"]) == 1 + len(PAGES)


@pytest.mark.parametrize("rel, url, flag, truncated", PAGES, ids=["wsj", "intercept", "guardian"])
def test_the_flags_land_in_the_warehouse(paywall_run, rel, url, flag, truncated):
    free, evidence, teaser, why, _ = paywall_run["rows"][url]
    assert free is flag and evidence
    assert teaser is truncated and (why is not None) is truncated
    if "Intercept" in rel:
        assert evidence.startswith("jsonld:hasPart.isAccessibleForFree=false")  # hasPart only


def test_report_and_saved_query_show_the_paywalled_share(paywall_run):
    assert "predates the paywall columns" in paywall_run["before"]  # read-only on the v2 file
    warehouse = str(paywall_run["warehouse"])
    page = report.render(report.data.read_warehouse(warehouse), warehouse)
    assert '<section id="paywall">' in page and "predates" not in page
    assert "<td>wsj.com</td>" in page and "100.0%" in page
    columns, rows = queries.run(warehouse, "paywalled_per_outlet")
    found = {r[0]: dict(zip(columns, r)) for r in rows}
    assert found["wsj.com"] == {"outlet": "wsj.com", "articles": 1, "declared": 1, "paywalled": 1, "truncated": 1,
                                "pct_paywalled": 100.0}
    assert found["theguardian.com"]["paywalled"] == 0 and found["theguardian.com"]["declared"] == 1
    assert found["old.example"]["declared"] == 0  # stored before schema 3: undeclared
    assert rows[0][0] in ("wsj.com", "theintercept.com")  # most paywalled first
