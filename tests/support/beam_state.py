"""In-memory stand-ins for Beam's bag and value state, to drive a stateful DoFn's process() by hand."""
from __future__ import annotations


class Bag:
    """BagState: add, read (counted, so a test can see how often state was decoded) and clear."""

    def __init__(self):
        self.items, self.reads = [], 0

    def add(self, value):
        self.items.append(value)

    def read(self):
        self.reads += 1
        return list(self.items)

    def clear(self):
        self.items = []


class Value:
    """ReadModifyWriteState: read and write."""

    def __init__(self):
        self.value = None

    def read(self):
        return self.value

    def write(self, value):
        self.value = value
