"""The BigQuery emulator (PyPI bqemulator) as a session-scoped pytest fixture.

Set it up once with `bash tests/emulators/setup_bqemulator.sh`. The fixture starts it on
127.0.0.1 on free ports, points BIGQUERY_EMULATOR_HOST at it for the session and stops it after.
It starts through bqemulator_launch.py, which mends where the emulator differs from BigQuery in
what wiredesk uses (NDJSON loads of BYTES columns), so wiredesk's code stays as BigQuery needs it.
Without the emulator the tests that need it are skipped with a message saying how to set it up;
with WIREDESK_REQUIRE_EMULATORS=1 (CI) they fail instead.

Use it from a test module with `from tests.emulators.bqemulator import bigquery_emulator  # noqa: F401`.
"""
from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port

PROJECT = "wiredesk-test"
DEFAULT_VENV = Path.home() / ".cache" / "wiredesk" / "bqemulator-venv"
SETUP = "bash tests/emulators/setup_bqemulator.sh"
# Starts the emulator with its known gaps mended (see that file).
LAUNCHER = Path(__file__).resolve().parent / "bqemulator_launch.py"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Emulator:
    host_port: str
    project: str

    @property
    def endpoint(self) -> str:
        return f"http://{self.host_port}"

    def client(self):
        from transforms.warehouse import bigquery_store

        return bigquery_store.client(self.project, self.endpoint)


def emulator_binary() -> Path:
    venv = Path(os.environ.get("WIREDESK_BQEMULATOR_VENV", DEFAULT_VENV))
    return venv / "bin" / "bqemulator"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def start(tmp_dir: Path):
    """(process, Emulator) for a freshly started emulator; raises if it does not come up."""
    binary = emulator_binary()
    rest, grpc = free_port(), free_port()
    log = open(tmp_dir / "bqemulator.log", "wb")
    proc = subprocess.Popen(
        [str(binary.parent / "python"), str(LAUNCHER), "start", "--rest-host", "127.0.0.1", "--rest-port", str(rest),
         "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc), "--project", PROJECT, "--ephemeral",
         "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_dir)
    url = f"http://127.0.0.1:{rest}/bigquery/v2/projects/{PROJECT}/datasets"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _ready(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            tail = (tmp_dir / "bqemulator.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"bqemulator did not start on port {rest}:\n{tail}")
        time.sleep(0.2)
    return proc, Emulator(f"127.0.0.1:{rest}", PROJECT)


def stop(proc) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# One emulator per test process, however many modules import the fixture (pytest makes one
# session fixture per importing module; they share this and the last one out stops it).
_SHARED = {"proc": None, "emulator": None, "users": 0, "previous": None}


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory):
    """A running BigQuery emulator; BIGQUERY_EMULATOR_HOST points at it while the session lasts."""
    if not emulator_binary().exists():
        message = f"BigQuery emulator not installed at {emulator_binary()}; run `{SETUP}`"
        if os.environ.get("WIREDESK_REQUIRE_EMULATORS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    if _SHARED["proc"] is None:
        proc, emulator = start(tmp_path_factory.mktemp("bqemulator"))
        _SHARED.update(proc=proc, emulator=emulator, previous=os.environ.get("BIGQUERY_EMULATOR_HOST"))
        os.environ["BIGQUERY_EMULATOR_HOST"] = emulator.host_port
    _SHARED["users"] += 1
    try:
        yield _SHARED["emulator"]
    finally:
        _SHARED["users"] -= 1
        if _SHARED["users"] == 0:
            if _SHARED["previous"] is None:
                os.environ.pop("BIGQUERY_EMULATOR_HOST", None)
            else:
                os.environ["BIGQUERY_EMULATOR_HOST"] = _SHARED["previous"]
            stop(_SHARED["proc"])
            _SHARED.update(proc=None, emulator=None)
