"""Shared fixtures: the third-party corpus beside the repo, and local servers over it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI clones the repo with shared/ beside it; WIREDESK_CORPUS points elsewhere when needed.
CORPUS = Path(os.environ.get("WIREDESK_CORPUS", REPO.parent / "shared" / "corpus"))
SYNDICATION_DEV = CORPUS / "syndication" / "dev"
SEED = CORPUS / "seed"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.fail(f"third-party corpus not found at {CORPUS}; set WIREDESK_CORPUS")
    return CORPUS


@pytest.fixture(scope="session")
def syndication_server(corpus):
    """The dev syndication split served through a local forward proxy."""
    from pipeline.corpus_server import CorpusServer, syndication_routes

    with CorpusServer(syndication_routes(SYNDICATION_DEV)) as server:
        yield server


def pytest_configure(config):
    # The DirectRunner first tries to download Prism from the internet; this machine has none,
    # so tests name the in-process FnApiRunner directly (TestStream tests name their own runner).
    from apache_beam.testing.test_pipeline import TestPipeline

    TestPipeline.pytest_test_pipeline_options = "--runner=FnApiRunner"
