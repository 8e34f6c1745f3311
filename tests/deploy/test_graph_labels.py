"""Running Dataflow streams update in place only if step labels and state names stay put: pin them.

`graph_labels.json` holds every step's full label and every stateful step's state and timer names
for the graphs wiredesk builds (the five kinds of run, and two over every kind of source). A change to the code's layout must leave them equal; a change
to the graph itself regenerates the file on purpose:
`python -m tests.deploy.test_graph_labels` (and says so in the commit).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

PINNED = Path(__file__).with_name("graph_labels.json")
BASE = ["--runner", "DataflowRunner", "--dry_run=True", "--no_auth", "--project=my-project",
        "--region=us-central1", "--temp_location=gs://valid-bucket-name/tmp",
        "--feeds", "https://feeds.example.com/world.xml"]
GRAPHS = {
    "batch-duckdb": ["--warehouse", "pinned.duckdb"],
    "batch-bigquery": ["--warehouse", "bigquery:my-project.wiredesk"],
    "streaming-duckdb": ["--warehouse", "pinned.duckdb", "--streaming"],
    "streaming-bigquery": ["--warehouse", "bigquery:my-project.wiredesk", "--streaming"],
    "streaming-pubsub": ["--warehouse", "bigquery:my-project.wiredesk", "--streaming", "--source", "pubsub",
                         "--subscription", "projects/my-project/subscriptions/entries"],
    # Sitemaps, a site, an agency endpoint and a drop folder: the folder adds its own steps (and
    # MatchContinuously's state in a stream).
    "batch-sources": ["--warehouse", "pinned.duckdb", "--feeds", str(Path(__file__).with_name("sources_feeds.yaml"))],
    "streaming-sources": ["--warehouse", "bigquery:my-project.wiredesk", "--streaming",
                          "--feeds", str(Path(__file__).with_name("sources_feeds.yaml"))],
}


def graph_facts(extra: list) -> dict:
    """Every step's label, and 'label: state/timer names' of every stateful step, of one dry-run graph."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2

    from pipeline.builder import build_pipeline
    from pipeline.prepare import prepare

    options = PipelineOptions([*BASE, *extra])
    proto = build_pipeline(options, prepare(options)).to_runner_api()
    labels, state = set(), set()
    for t in proto.components.transforms.values():
        if not t.unique_name or t.unique_name.startswith("ref_"):
            continue
        labels.add(t.unique_name)
        if t.spec.urn == common_urns.primitives.PAR_DO.urn:
            payload = beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload)
            names = sorted([*payload.state_specs, *payload.timer_family_specs])
            if names:
                state.add(f"{t.unique_name}: {', '.join(names)}")
    return {"labels": sorted(labels), "state": sorted(state)}


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_step_labels_and_state_names_are_pinned(graph, monkeypatch):
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)
    pinned = json.loads(PINNED.read_text())[graph]
    assert graph_facts(GRAPHS[graph]) == pinned


if __name__ == "__main__":
    os.environ.pop("BIGQUERY_EMULATOR_HOST", None)
    PINNED.write_text(json.dumps({g: graph_facts(a) for g, a in GRAPHS.items()}, indent=1) + "\n")
    print(PINNED)
