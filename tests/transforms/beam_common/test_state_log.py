"""state_log: a versioned append-only log, decoded once per version, compacted at slack x live + 256."""
from __future__ import annotations

from tests.support.beam_state import Bag, Value
from transforms.beam_common.state_log import StateLog


class Words:
    """A decoded value: the set of words, and how many records the bag holds."""

    def __init__(self, records=()):
        self.words = {r.decode() for r in records}
        self.records = len(list(records))


def _add(cache, bag, version, word: str, live_cap=None) -> StateLog:
    state = StateLog(cache, "key", bag, version, lambda records: Words(list(records)))
    if word in state.value.words:
        state.keep()
        return state
    state.value.words.add(word)
    live = sorted(state.value.words)[-live_cap:] if live_cap else sorted(state.value.words)
    state.write(word.encode(), lambda: [w.encode() for w in live], len(live), slack=1.5)
    if live_cap:
        state.value.words = set(live)
    return state


def test_an_element_reads_only_the_version_while_the_cache_is_current():
    cache, bag, version = {}, Bag(), Value()
    for word in ("a", "b", "a", "c"):
        _add(cache, bag, version, word)
    assert version.read() == 3 and bag.items == [b"a", b"b", b"c"] and bag.reads == 0
    assert cache["key"][0] == 3 and cache["key"][1].records == 3


def test_a_write_by_someone_else_rebuilds_from_the_bag():
    cache, bag, version = {}, Bag(), Value()
    _add(cache, bag, version, "a")
    _add({}, bag, version, "b")  # another worker's copy, with its own cache
    state = _add(cache, bag, version, "c")
    assert state.rebuilt and bag.reads == 2 and state.value.words == {"a", "b", "c"}


def test_the_log_is_rewritten_to_the_live_records_when_it_outgrows_slack_x_live_plus_256():
    cache, bag, version = {}, Bag(), Value()
    for i in range(300):
        _add(cache, bag, version, f"w{i:03}", live_cap=10)
    # Compacted at 257 records (> 1.5 x 10 + 256) to the 10 live ones, then appended to again.
    assert len(bag.items) < 300 - 200
    assert cache["key"][1].records == len(bag.items)
    assert version.read() == 300


def test_seed_starts_a_fresh_key_without_a_new_version():
    cache, bag, version = {}, Bag(), Value()
    state = StateLog(cache, "key", bag, version, lambda records: Words(list(records)))
    assert state.rebuilt and state.version == 0
    state.seed(Words([b"x", b"y"]), [b"x", b"y"])
    assert bag.items == [b"x", b"y"] and version.read() is None and cache["key"] == (0, state.value)
    assert state.value.records == 2
