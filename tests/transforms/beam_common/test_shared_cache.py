"""shared_cache: every copy of one DoFn in a process shares its cache; other pipelines do not."""
from __future__ import annotations

import pickle

from schemas.settings import Settings
from transforms.beam_common import shared_cache
from transforms.dedup.beam_streaming import AssignStories
from transforms.fetch.stage import FetchHostBatch


def _copy(dofn):
    # What the local streaming runner does for every bundle.
    return pickle.loads(pickle.dumps(dofn))


def test_copies_of_one_fetching_dofn_share_one_fetcher_and_other_dofns_do_not():
    first = FetchHostBatch(Settings())
    copy, other = _copy(first), FetchHostBatch(Settings())
    for dofn in (first, copy, other):
        dofn.setup()
    assert first._fetcher is copy._fetcher
    assert other._fetcher is not first._fetcher
    first.close_shared()
    other.close_shared()


def test_copies_of_the_story_assigner_share_the_decoded_index():
    first = AssignStories(Settings())
    copy, other = _copy(first), AssignStories(Settings())
    for dofn in (first, copy, other):
        dofn.setup()
    first._cache["stories"] = (3, "index")
    assert copy._cache["stories"] == (3, "index")
    assert "stories" not in other._cache


class _Closable:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


def test_the_oldest_scope_is_dropped_and_closed_beyond_the_limit():
    scopes = [shared_cache.new_scope() for _ in range(shared_cache.MAX_SCOPES + 1)]
    held = [shared_cache.shared(scope, "thing", _Closable) for scope in scopes]
    assert held[0].closed and not any(h.closed for h in held[1:])
    # Asking again for a dropped scope makes a fresh value rather than reviving a closed one.
    assert shared_cache.shared(scopes[0], "thing", _Closable) is not held[0]
    for scope in scopes:
        shared_cache.forget(scope)
    assert all(h.closed for h in held)
