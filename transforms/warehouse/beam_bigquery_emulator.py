"""Beam's WriteToBigQuery pointed at a local BigQuery emulator: a development and test endpoint only.

WriteToBigQuery reaches an emulator only through its `test_client` hook (DESIGN.md: the emulator
section); production runs pass None and Beam talks to BigQuery itself.
"""
from __future__ import annotations

import time

from transforms.warehouse.bigquery_store import client, emulator_endpoint


class EmulatorBeamClient:
    """Beam's test_client for WriteToBigQuery against the emulator: picklable, built lazily.

    Beam's BigQueryWrapper uses ONE object both as its apitools client (.tables, .jobs,
    .datasets, .tabledata) and as the google-cloud client for insert_rows_json.
    `reject(row) -> str | None` lets a test play BigQuery's row-level rejections, which the
    emulator does not make.
    """

    test_clock = staticmethod(time.time)

    def __init__(self, project: str, endpoint: str, reject=None):
        self.project = project
        self.endpoint = emulator_endpoint(endpoint)
        self.reject = reject
        self._api = None
        self._gcp = None

    def __getstate__(self):
        return {"project": self.project, "endpoint": self.endpoint, "reject": self.reject}

    def __setstate__(self, state):
        self.__init__(state["project"], state["endpoint"], state["reject"])

    def _apitools(self):
        if self._api is None:
            from apache_beam.io.gcp.internal.clients import bigquery as bqapi

            self._api = bqapi.BigqueryV2(url=f"{self.endpoint}/bigquery/v2/", get_credentials=False,
                                         credentials=None)
        return self._api

    def __getattr__(self, name):
        if name in ("tables", "jobs", "datasets", "tabledata"):
            return getattr(self._apitools(), name)
        raise AttributeError(name)

    def insert_rows_json(self, table, json_rows, row_ids=None, **kwargs):
        from google.api_core.retry import Retry

        if self._gcp is None:
            self._gcp = client(self.project, self.endpoint)
        errors, keep, keep_ids = [], [], []
        for i, row in enumerate(json_rows):
            reason = self.reject(row) if self.reject else None
            if reason:
                errors.append({"index": i, "errors": [{"reason": "invalid", "location": "",
                                                       "message": reason}]})
            else:
                keep.append((i, row))
                keep_ids.append(row_ids[i] if row_ids else None)
        if keep:
            kwargs.pop("retry", None)
            got = self._gcp.insert_rows_json(table, [r for _, r in keep], row_ids=keep_ids if row_ids else None,
                                             retry=Retry(deadline=30), **kwargs)
            errors.extend({**e, "index": keep[e["index"]][0]} for e in got)
        return errors


def beam_test_client(project: str, endpoint: str | None = None, reject=None):
    """The test_client to hand WriteToBigQuery: an EmulatorBeamClient, or None for real BigQuery."""
    endpoint = emulator_endpoint(endpoint)
    return EmulatorBeamClient(project, endpoint, reject) if endpoint else None
