"""`wiredesk demo` and `wiredesk query` as a user runs them, in a fresh process."""
import subprocess
import sys

import duckdb
import pytest

from pipeline.demo import demo_manifest


def _wiredesk(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("demo")
    done = _wiredesk("demo", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return cwd, done


def test_demo_lands_what_the_demo_corpus_promises_and_prints_queries(demo):
    tmp_path, done = demo
    expected = demo_manifest()["expected"]
    con = duckdb.connect(str(tmp_path / "wiredesk-demo.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == expected["articles"]
        assert con.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == expected["dead_letters"]
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == expected["stories"]
        agencies = dict(con.execute("SELECT agency, count(*) FROM articles WHERE agency IS NOT NULL "
                                    "GROUP BY 1").fetchall())
    finally:
        con.close()
    assert agencies == expected["agencies"]
    out = done.stdout
    assert "[balanced]" in out and "dead letters by reason" in out and "widest stories" in out
    assert out.count("$ wiredesk query") == 3 and "fetch/http_404: 1" in out
    assert "Traceback" not in done.stderr


def test_query_prints_a_table_and_rejects_bad_sql(demo):
    tmp_path, _ = demo
    done = _wiredesk("query", "--warehouse", "wiredesk-demo.duckdb",
                     "SELECT agency, count(*) AS n FROM articles WHERE agency = 'PTI' GROUP BY 1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "| PTI" in done.stdout and "(1 row)" in done.stdout
    bad = _wiredesk("query", "--warehouse", "missing.duckdb", "SELECT 1", cwd=tmp_path)
    assert bad.returncode == 2 and "no such warehouse file" in bad.stderr
    wrong = _wiredesk("query", "--warehouse", "wiredesk-demo.duckdb", "SELECT nope FROM articles", cwd=tmp_path)
    assert wrong.returncode == 2 and "query failed" in wrong.stderr and "Traceback" not in wrong.stderr


def test_readme_example_sql_runs_on_the_demo_warehouse(demo):
    import re
    from pathlib import Path

    tmp_path, _ = demo
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```sql\n(.*?)```", readme, re.S).group(1)
    con = duckdb.connect(str(tmp_path / "wiredesk-demo.duckdb"), read_only=True)
    try:
        for statement in filter(None, (s.strip() for s in block.split(";"))):
            assert con.execute(statement).fetchall(), statement
    finally:
        con.close()


def test_streaming_demo_lands_the_same_rows_as_the_batch_demo(demo, tmp_path):
    # The README's offline try-out of --streaming: poll the demo feeds twice (the second poll is
    # answered 304), stream the rows in, stop by itself. Same articles and stories as batch.
    batch_dir, _ = demo
    done = _wiredesk("demo", "--warehouse", "stream.duckdb", "--streaming", "--max_polls", "2",
                     "--poll_interval", "2s", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[balanced]" in done.stdout and "feeds_unchanged=4" in done.stdout

    def rows(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            articles = con.execute("SELECT article_id, agency, story_agency, story_id FROM articles ORDER BY 1").fetchall()
            dead = con.execute("SELECT dead_letter_id FROM dead_letters ORDER BY 1").fetchall()
        finally:
            con.close()
        stories = {}
        for row in articles:
            stories.setdefault(row[-1], set()).add(row[0])
        # Which copy's id names a story follows arrival order in a stream (rows are never
        # rewritten); the articles, their agencies and the grouping into stories do not.
        return [row[:3] for row in articles], sorted(sorted(m) for m in stories.values()), dead

    assert rows(tmp_path / "stream.duckdb") == rows(batch_dir / "wiredesk-demo.duckdb")
