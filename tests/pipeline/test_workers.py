"""A local batch run on every core: the default flags, the same rows as one process, and live progress."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import duckdb
import pytest

from pipeline import progress
from pipeline.corpus_server import CorpusServer
from pipeline.demo import demo_manifest, demo_routes, write_demo_feeds
from pipeline.options import LOCAL_RUNNING_MODE, WORKERS_ENV, local_worker_args
from pipeline.run import run_pipeline
from transforms.beam_common.metrics import RELAY_ENV

BATCH = ["--feeds", "f.yaml", "--runner", "FnApiRunner"]


@pytest.fixture
def no_env_workers(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)


def test_a_local_batch_run_defaults_to_one_worker_process_per_core(no_env_workers):
    assert local_worker_args(BATCH, cpu_count=2) == [
        "--direct_num_workers", "2", "--direct_running_mode", LOCAL_RUNNING_MODE]
    assert local_worker_args([*BATCH, "--direct_running_mode=multi_threading"], cpu_count=4) == [
        "--direct_num_workers", "4"]


def test_workers_asked_for_run_as_processes_unless_argv_names_the_mode(no_env_workers):
    assert local_worker_args([*BATCH, "--direct_num_workers", "3"], cpu_count=2) == [
        "--direct_running_mode", LOCAL_RUNNING_MODE]
    assert local_worker_args([*BATCH, "--direct_num_workers=2", "--direct_running_mode", "multi_threading"]) == []


@pytest.mark.parametrize("argv", [
    [*BATCH, "--direct_num_workers", "1"],
    [*BATCH, "--direct_num_workers=1"],
    [*BATCH, "--streaming"],
    ["--feeds", "f.yaml", "--runner", "DataflowRunner"],
    ["--feeds", "f.yaml", "--runner", "BundleBasedDirectRunner"],
])
def test_workers_are_left_alone_when_argv_chooses_or_the_runner_is_not_the_local_batch_one(no_env_workers, argv):
    assert local_worker_args(argv, cpu_count=2) == []


def test_one_core_or_the_environment_saying_one_keeps_the_run_in_this_process(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert local_worker_args(BATCH, cpu_count=1) == []
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert local_worker_args(BATCH, cpu_count=8) == []


def test_a_worker_process_relays_its_counters_to_the_live_tally():
    child = ("from transforms.beam_common.metrics import counter; import time; "
             "counter('fetch', 'pages').inc(3); counter('fetch', 'pages').inc(2); time.sleep(1.0)")
    with progress.reporting():
        env = dict(os.environ)
        assert env[RELAY_ENV].startswith(f"{os.getpid()}:")
        subprocess.run([sys.executable, "-c", child], env=env, check=True, timeout=60)
        deadline = time.monotonic() + 5
        while progress.snapshot().get("fetch.pages") != 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert progress.snapshot().get("fetch.pages") == 5
    assert RELAY_ENV not in os.environ or os.environ[RELAY_ENV] != env[RELAY_ENV]


def _rows(warehouse) -> dict:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "articles": sorted(con.execute("SELECT article_id, title, body, agency, story_id, story_agency "
                                           "FROM articles").fetchall()),
            "dead_letters": sorted(con.execute("SELECT dead_letter_id, stage, error_class FROM dead_letters")
                                   .fetchall()),
            "story_index": sorted(con.execute("SELECT article_id, story_id FROM story_index").fetchall()),
        }
    finally:
        con.close()


@pytest.mark.slow
def test_two_worker_processes_land_the_rows_one_process_lands_and_a_rerun_adds_none(tmp_path, monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    manifest = demo_manifest()
    with CorpusServer(demo_routes(manifest)) as server:
        feeds = write_demo_feeds(tmp_path, manifest)
        base = ["--feeds", str(feeds), "--proxy", server.url]
        one = run_pipeline([*base, "--warehouse", str(tmp_path / "one.duckdb"), "--direct_num_workers", "1"])
        two = run_pipeline([*base, "--warehouse", str(tmp_path / "two.duckdb"),
                            *local_worker_args(["--runner", "FnApiRunner"], cpu_count=2)])
        first = _rows(tmp_path / "two.duckdb")
        assert first == _rows(tmp_path / "one.duckdb")
        assert len(first["articles"]) == manifest["expected"]["articles"]
        assert two["counters"] == {k: v for k, v in one["counters"].items()}
        again = run_pipeline([*base, "--warehouse", str(tmp_path / "two.duckdb"),
                              *local_worker_args(["--runner", "FnApiRunner"], cpu_count=2)])
    assert _rows(tmp_path / "two.duckdb") == first
    assert again["counters"].get("write.articles.inserted", 0) == 0
