"""Offline deployment checks: the Dataflow job (dry run), the Flex Template metadata, Terraform."""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from pathlib import Path

import apache_beam as beam
import pytest

from schemas import bigquery_ddl
from schemas.types import TABLES

# Whole-pipeline runs over a corpus, subprocesses or emulators: `pytest -m 'not slow'` leaves them out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
METADATA = DEPLOY / "flex" / "metadata.json"
TERRAFORM = DEPLOY / "terraform"
STAGES = ["Read Feeds", "Fetch Articles", "Extract Articles", "Clean Articles", "Tag Articles", "Deduplicate",
          "Write Warehouse"]
# A valid bucket name matters: with an invalid one Beam tries to create a bucket and hangs ~120 s.
DRY_RUN = ["--runner", "DataflowRunner", "--dry_run=True", "--no_auth", "--project=my-project",
           "--region=us-central1", "--temp_location=gs://valid-bucket-name/tmp",
           "--feeds", "https://feeds.example.com/world.xml", "--warehouse", "bigquery:my-project.wiredesk"]


@pytest.fixture
def offline_bigquery(monkeypatch):
    """A dry run touches no warehouse at all: no emulator, no credentials, no network."""
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)


def dry_run_job(extra=(), warehouse=None):
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.dataflow.internal import apiclient

    from pipeline.builder import build_pipeline
    from pipeline.prepare import prepare

    argv = [*DRY_RUN, *extra] if warehouse is None else [*DRY_RUN[:-1], str(warehouse), *extra]
    options = PipelineOptions(argv)
    result = build_pipeline(options, prepare(options)).run()
    job = result.job
    env = apiclient.Environment([], options, "8", "gs://valid-bucket-name/tmp/pipeline.pb", job.proto_pipeline)
    return job, json.loads(_to_json(env.proto)), options


def _to_json(message) -> str:
    from google.protobuf import json_format

    return json_format.MessageToJson(type(message).pb(message))


def _check_job(job, env: dict, expected_type: str):
    from google.cloud import dataflow

    assert job.proto.type_ == getattr(dataflow.JobType, expected_type)
    top = {t.unique_name for t in job.proto_pipeline.components.transforms.values() if "/" not in t.unique_name}
    assert set(STAGES) <= top
    options = env["sdkPipelineOptions"]["options"]
    assert options["warehouse"] == "bigquery:my-project.wiredesk"
    assert options["feeds"] == ["https://feeds.example.com/world.xml"]
    assert options["project"] == "my-project" and options["region"] == "us-central1"
    # Workers run Beam's Python 3.11 SDK container of the same version as setup.py and the launcher.
    image = f"gcr.io/cloud-dataflow/v1beta3/beam_python3.11_sdk:{beam.__version__}"
    payloads = [e.payload for e in job.proto_pipeline.components.environments.values()]
    assert payloads and all(image.encode() in p for p in payloads)
    containers = [c["containerImage"] for pool in env["workerPools"] for c in pool["sdkHarnessContainerImages"]]
    assert containers and set(containers) == {image}
    return top


def test_dataflow_batch_job_builds_offline(offline_bigquery):
    job, env, _ = dry_run_job()
    _check_job(job, env, "JOB_TYPE_BATCH")
    assert env["version"]["job_type"] == "FNAPI_BATCH"
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert {"Write Warehouse/Batch/Load Articles", "Write Warehouse/Batch/Merge Staging"} <= names


def test_dataflow_streaming_job_builds_offline(offline_bigquery):
    job, env, _ = dry_run_job(["--streaming"])
    _check_job(job, env, "JOB_TYPE_STREAMING")
    assert env["version"]["job_type"] == "FNAPI_STREAMING"
    names = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert {"Write Warehouse/Stream/Insert Articles", "Write Warehouse/Stream/First Articles"} <= names


# Dataflow refuses job requests of more than a few MB; the graph must stay far below, whatever is stored.
MAX_GRAPH_BYTES = 1_000_000
HISTORY_ARTICLES = 100_000


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A DuckDB warehouse of a long-running deployment: 100k stored articles with their signatures."""
    from benchmarks.history_warehouse import make_history

    path = tmp_path_factory.mktemp("history") / "history.duckdb"
    make_history(path, HISTORY_ARTICLES, feed_urls=["https://feeds.example.com/world.xml"])
    return path


def test_the_job_graph_is_the_same_size_over_100k_stored_articles_as_over_none(history, tmp_path,
                                                                                offline_bigquery):
    sizes = {}
    for name, warehouse in (("empty", tmp_path / "empty.duckdb"), ("history", history)):
        for mode in ("batch", "streaming"):
            job, _, _ = dry_run_job(["--streaming"] if mode == "streaming" else [], warehouse=warehouse)
            sizes[name, mode] = job.proto_pipeline.ByteSize()
    for mode in ("batch", "streaming"):
        assert sizes["history", mode] < MAX_GRAPH_BYTES
        # Only the warehouse path differs between the two jobs (it is pickled into the look-ups).
        assert abs(sizes["history", mode] - sizes["empty", mode]) < 300, sizes


def test_the_dry_run_of_a_bigquery_job_stays_small(offline_bigquery):
    for extra in ([], ["--streaming"]):
        job, _, _ = dry_run_job(extra)
        assert job.proto_pipeline.ByteSize() < MAX_GRAPH_BYTES


@pytest.mark.parametrize("warehouse", ["history", "bigquery:my-project.wiredesk"])
def test_wiredesk_run_dry_run_prints_the_job_and_its_graph_size(warehouse, history):
    import os
    import sys

    target = str(history) if warehouse == "history" else warehouse
    env = {k: v for k, v in os.environ.items() if k != "BIGQUERY_EMULATOR_HOST"}
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", *DRY_RUN[:-1], target],
                         capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("wiredesk: dry run: nothing was submitted")
    assert f"warehouse: {target}" in out.stdout and "Deduplicate" in out.stdout
    size = re.fullmatch(r"job graph size: (\d+) bytes", lines[-1])
    assert size and 10_000 < int(size.group(1)) < MAX_GRAPH_BYTES
    assert "Traceback" not in out.stderr


def test_setup_py_and_the_image_pin_the_same_beam():
    setup = (REPO / "setup.py").read_text()
    pin = re.search(r'"apache-beam\[gcp\]==([0-9.]+)"', setup).group(1)
    docker = (DEPLOY / "flex" / "Dockerfile").read_text()
    assert pin == beam.__version__
    assert re.search(r"^FROM gcr\.io/dataflow-templates-base/python311-template-launcher-base", docker, re.M)
    assert f'apache-beam[gcp]=={pin}"' in docker
    assert "ENV FLEX_TEMPLATE_PYTHON_PY_FILE=" in docker and "ENV FLEX_TEMPLATE_PYTHON_SETUP_FILE=" in docker
    for line in docker.splitlines():
        if line.startswith("COPY "):
            assert (REPO / line.split()[1]).exists(), line


def _option_dests() -> dict:
    from pipeline.options import WiredeskOptions

    parser = argparse.ArgumentParser()
    WiredeskOptions._add_argparse_args(parser)
    return {a.dest: a for a in parser._actions if a.dest != "help"}


def test_metadata_lists_every_pipeline_parameter_with_label_help_and_regex():
    meta = json.loads(METADATA.read_text())
    params = {p["name"]: p for p in meta["parameters"]}
    assert set(_option_dests()) <= set(params)
    for p in params.values():
        assert p["label"].strip() and p["helpText"].strip() and p["regexes"], p["name"]
        for rx in p["regexes"]:
            re.compile(rx)
    samples = {"feeds": ("/template/feeds.yaml", "a b"), "warehouse": ("bigquery:my-project.wiredesk", "w.duckdb"),
               "subscription": ("projects/my-project/subscriptions/wiredesk-entries", "wiredesk"),
               "min_host_gap": ("1.5", "-1"), "max_polls": ("3", "0"), "source": ("pubsub", "kafka"),
               "allow_private_networks": ("false", "yes"), "poll_interval": ("5m", "5 minutes")}
    for name, (good, bad) in samples.items():
        rx = params[name]["regexes"][0]
        assert re.fullmatch(rx, good), (name, good)
        assert not re.fullmatch(rx, bad), (name, bad)


def test_flex_main_turns_template_parameters_into_wiredesk_flags():
    import importlib.util

    spec = importlib.util.spec_from_file_location("flex_main", DEPLOY / "flex" / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.normalise(["--feeds=https://a.example/f,https://b.example/g", "--ignore_robots=false",
                             "--streaming=true", "--warehouse=bigquery:my-project.wiredesk"]) == [
        "--feeds", "https://a.example/f", "--feeds", "https://b.example/g", "--streaming",
        "--warehouse=bigquery:my-project.wiredesk"]


def test_gcloud_accepts_the_flex_template_metadata(tmp_path):
    gcloud = shutil.which("gcloud")
    if not gcloud:
        pytest.skip("gcloud is not installed here; the Flex Template build check needs the Google Cloud SDK")
    cmd = [gcloud, "dataflow", "flex-template", "build", "gs://valid-bucket-name/templates/wiredesk.json",
           "--image=us-central1-docker.pkg.dev/my-project/wiredesk/wiredesk-launcher:test", "--sdk-language=PYTHON",
           f"--metadata-file={METADATA}", "--print-only"]
    env = {"CLOUDSDK_CONFIG": str(tmp_path), "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert '"name": "wiredesk"' in out.stdout and "wiredesk-launcher:test" in out.stdout
    # And it does reject bad metadata.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "wiredesk", "parameters": [{"label": "x"}]}))
    cmd[-2] = f"--metadata-file={bad}"
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env).returncode != 0


def test_terraform_is_formatted():
    terraform = shutil.which("terraform")
    if not terraform:
        pytest.skip("terraform is not installed here")
    out = subprocess.run([terraform, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def _resource(body: str, kind: str, name: str) -> str:
    m = re.search(rf'resource "{kind}" "{name}" \{{(.*?)\n\}}', body, re.S)
    assert m, (kind, name)
    return m.group(1)


def test_terraform_tables_are_the_schema_files_in_schemas():
    body = (TERRAFORM / "bigquery.tf").read_text()
    schema_dir = re.search(r'schema_dir\s*=\s*"\$\{path.module\}/([^"]+)"', body).group(1)
    assert (TERRAFORM / schema_dir).resolve() == (REPO / "schemas" / "bigquery").resolve()
    for table in TABLES:
        block = _resource(body, "google_bigquery_table", table)
        assert re.search(rf'table_id\s*=\s*"{table}"', block)
        # The table's schema IS the checked-in file the pipeline loads with...
        assert re.search(rf'schema\s*=\s*file\("\$\{{local.schema_dir\}}/{table}.json"\)', block)
        # ...which is generated from schemas/types.py (tests/schemas checks that).
        layout = bigquery_ddl.TABLE_LAYOUT[table]
        if layout["clustering"]:
            assert re.search(r"clustering\s*=\s*" + re.escape(json.dumps(layout["clustering"])),
                             block)
        else:
            assert "clustering" not in block
        if layout["partition_field"]:
            assert re.search(rf'field\s*=\s*"{layout["partition_field"]}"', block) and 'type  = "DAY"' in block
        else:
            assert "time_partitioning" not in block
    view = _resource(body, "google_bigquery_table", "stories")
    assert "stories_view.sql.tftpl" in view
    assert (TERRAFORM / "stories_view.sql.tftpl").read_text() == bigquery_ddl.terraform_view_template(), \
        "run `python -m tests.deploy.test_dataflow` to regenerate"


def test_terraform_declares_bucket_registry_service_account_and_optional_pubsub():
    body = "\n".join(p.read_text() for p in TERRAFORM.glob("*.tf"))
    for kind in ("google_storage_bucket", "google_artifact_registry_repository", "google_service_account",
                 "google_pubsub_topic", "google_pubsub_subscription", "google_bigquery_dataset"):
        assert f'resource "{kind}"' in body, kind
    roles = set(re.findall(r'role\s*=\s*"(roles/[^"]+)"', body))
    assert roles == {"roles/dataflow.worker", "roles/bigquery.jobUser", "roles/bigquery.dataEditor",
                     "roles/storage.objectAdmin", "roles/artifactregistry.reader", "roles/pubsub.subscriber",
                     "roles/pubsub.viewer"}
    # Least privilege: no project-wide owner/editor or admin roles, data access scoped to the dataset.
    assert not any(r in roles for r in ("roles/owner", "roles/editor", "roles/bigquery.admin"))
    assert 'resource "google_bigquery_dataset_iam_member"' in body
    assert re.search(r'count\s*=\s*var.enable_pubsub \? 1 : 0', body)


if __name__ == "__main__":
    # Regenerates Terraform's copy of the stories view from schemas/bigquery_ddl.py.
    (TERRAFORM / "stories_view.sql.tftpl").write_text(bigquery_ddl.terraform_view_template(), encoding="utf-8")
