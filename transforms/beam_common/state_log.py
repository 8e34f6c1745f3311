"""A stateful DoFn's memory as a versioned append-only log in Beam state, decoded once per process.

The state is a bag of small pickled records plus a version number. An element reads only the
version: the decoded value is cached (per process, in shared_cache) under the version it was
built from, and rebuilt from the bag only when someone else wrote since. Writes append one
record, or rewrite the bag to the live records when it holds more than slack x live + 256.
Used by KeepFirstLink and AssignStories. See ARCHITECTURE.md "Deduplication with bounded state".
"""
from __future__ import annotations

from apache_beam.coders import BytesCoder, VarIntCoder
from apache_beam.transforms import userstate


def log_spec(name: str) -> userstate.BagStateSpec:
    """The bag of records (its name is part of a running stream's state: never change it)."""
    return userstate.BagStateSpec(name, BytesCoder())


def version_spec(name: str) -> userstate.ReadModifyWriteStateSpec:
    """The log's version, bumped by every write."""
    return userstate.ReadModifyWriteStateSpec(name, VarIntCoder())


def needs_compaction(records: int, live: int, slack: float) -> bool:
    return records > slack * live + 256


class StateLog:
    """One element's view of one key's log: `value`, then keep() or one write.

    `cache` maps key -> (version, value) and is shared by the DoFn's copies in a process.
    `decode(records)` builds the value from the bag's records; the value keeps `records`, the
    number of records in the bag it was built from and has written since.
    """

    def __init__(self, cache: dict, key, log, version, decode):
        self._cache, self._key, self._log, self._version = cache, key, log, version
        self.version = version.read() or 0
        cached = cache.get(key)
        self.rebuilt = cached is None or cached[0] != self.version
        if self.rebuilt:
            self.value = decode(log.read() if self.version else ())
        else:
            self.value = cached[1]

    def seed(self, value, records) -> None:
        """Start a fresh key (version 0) from value and its records, without a new version."""
        self.value = value
        self._log.clear()
        value.records = self._add(records)
        self.keep()

    def keep(self) -> None:
        """Nothing written: remember the decoded value under the current version."""
        self._cache[self._key] = (self.version, self.value)

    def write(self, record: bytes, live_records, live: int, slack: float, compact: bool = False) -> bool:
        """Append record, or rewrite the bag to live_records() (compact, or the log has outgrown
        slack x live + 256); bumps the version. True when it rewrote."""
        rewrite = compact or needs_compaction(self.value.records, live, slack)
        if rewrite:
            self._log.clear()
            self.value.records = self._add(live_records())
        else:
            self._log.add(record)
            self.value.records += 1
        self.version += 1
        self._version.write(self.version)
        self.keep()
        return rewrite

    def _add(self, records) -> int:
        n = 0
        for raw in records:
            self._log.add(raw)
            n += 1
        return n
