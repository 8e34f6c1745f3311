"""Shared fixtures: the third-party corpus beside the repo, and local servers over it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.corpus import CORPUS, SYNDICATION_DEV  # noqa: F401 - fixtures below use them


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.fail(f"third-party corpus not found at {CORPUS}; set WIREDESK_CORPUS")
    return CORPUS

@pytest.fixture(scope="session")
def syndication_server(corpus):
    """The dev syndication split served through a local forward proxy."""
    from pipeline.corpus_server import CorpusServer
    from tests.support.corpus import syndication_routes

    with CorpusServer(syndication_routes(SYNDICATION_DEV)) as server:
        yield server

def pytest_configure(config):
    # The DirectRunner first tries to download Prism from the internet; this machine has none,
    # so tests name the in-process FnApiRunner directly (TestStream tests name their own runner).
    from apache_beam.testing.test_pipeline import TestPipeline

    TestPipeline.pytest_test_pipeline_options = "--runner=FnApiRunner"
    # Runs stay in one process unless a test asks for workers (tests/pipeline/test_workers.py does):
    # starting worker processes would cost every small run a few seconds. Subprocesses inherit it.
    import os

    from pipeline.options import WORKERS_ENV

    os.environ.setdefault(WORKERS_ENV, "1")
