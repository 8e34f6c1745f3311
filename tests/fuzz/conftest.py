"""Fuzzing budget: WIREDESK_FUZZ_SECONDS (default 4 per target in CI); set it to 300+ for a local hunt."""
import os

import pytest

DEFAULT_SECONDS = 4.0


def fuzz_seconds() -> float:
    try:
        return max(0.5, float(os.environ.get("WIREDESK_FUZZ_SECONDS", DEFAULT_SECONDS)))
    except ValueError:
        return DEFAULT_SECONDS


@pytest.fixture
def fuzz_budget() -> float:
    return fuzz_seconds()
