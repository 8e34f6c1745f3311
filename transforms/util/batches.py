"""Long key lists in slices, so one query's parameters stay bounded."""
from __future__ import annotations


def chunks(values: list, size: int):
    """values in consecutive slices of at most size."""
    for i in range(0, len(values), size):
        yield values[i:i + size]
