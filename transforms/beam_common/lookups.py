"""Beam steps that ask the warehouse about this run's keys: one batched query per bundle.

They replace the sets of every stored URL, id and story that used to be read in the launcher and
embedded in the job graph, so the work follows what a run brings. `lookup` is a picklable
DuckDBLookup or BigQueryLookup (pipeline/prepare.py picks it). Elements keep their own timestamp
and window, so these steps sit anywhere in a batch or a streaming graph.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue


class LookUpInBundles(beam.DoFn):
    """Collects a bundle's elements and resolves them together with `resolve(pending)`."""

    # One query per this many elements at most, so a huge batch bundle stays a few queries.
    MAX_PENDING = 5000

    def __init__(self, lookup):
        self._lookup = lookup
        self._pending: list = []

    def start_bundle(self):
        self._pending = []

    def process(self, element, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self._pending.append(WindowedValue(element, timestamp, (window,)))
        if len(self._pending) >= self.MAX_PENDING:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def teardown(self):
        self._lookup.close()

    def _flush(self):
        pending, self._pending = self._pending, []
        if pending:
            yield from self.resolve(pending)

    def resolve(self, pending: list):
        raise NotImplementedError
