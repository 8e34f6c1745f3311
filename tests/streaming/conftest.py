"""Fixtures for the streaming tests: feeds that change while a run goes on, and the Pub/Sub emulator."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.corpus import SYNDICATION_DEV, feed_index, sliced_feed  # noqa: F401
from tests.support.ports import free_port

EMULATOR = Path("/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator")


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory):
    """A Pub/Sub emulator on a free port; PUBSUB_EMULATOR_HOST is set while it runs."""
    if not EMULATOR.exists() or not shutil.which("java"):
        pytest.skip("the Google Cloud SDK's Pub/Sub emulator (and java) are needed")
    port = free_port()
    data = tmp_path_factory.mktemp("pubsub")
    log = open(data / "emulator.log", "wb")
    proc = subprocess.Popen([str(EMULATOR), "--host=127.0.0.1", f"--port={port}", f"--dir={data}"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"Pub/Sub emulator did not start: {(data / 'emulator.log').read_text()[-2000:]}")
            time.sleep(0.2)
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = host
    try:
        yield host
    finally:
        if previous is None:
            os.environ.pop("PUBSUB_EMULATOR_HOST", None)
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
