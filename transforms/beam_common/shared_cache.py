"""Per-process caches shared by every copy of one DoFn, so they outlive a runner's per-bundle copies.

The local streaming runner (BundleBasedDirectRunner) unpickles a fresh copy of each DoFn for every
bundle and calls its setup(). Whatever a DoFn kept on `self` would then be rebuilt every few
seconds: a fetcher's robots.txt answers and per-host gaps (a politeness loss, not only a cost),
or the decoded story index. A DoFn instead takes a scope id when the pipeline is built. The id
travels inside its pickles, and every copy of that DoFn in the process finds the same cache.
Different pipelines get different ids, so runs in one process (tests) never share a cache.
Dataflow reuses DoFn instances anyway. There, the shared cache means one fetcher per worker process
instead of one per thread.
"""
from __future__ import annotations

import collections
import threading
import uuid

# Scopes kept per process; the oldest is dropped (and its values closed) beyond this. Only a
# process that builds many pipelines (a test session) ever reaches it.
MAX_SCOPES = 16

_scopes: collections.OrderedDict = collections.OrderedDict()
_lock = threading.Lock()


def new_scope() -> str:
    return uuid.uuid4().hex


def shared(scope: str, name: str, factory):
    """The value `name` of `scope`, made by factory() the first time any copy asks for it."""
    evicted = []
    with _lock:
        values = _scopes.get(scope)
        if values is None:
            values = _scopes[scope] = {}
            while len(_scopes) > MAX_SCOPES:
                evicted.append(_scopes.popitem(last=False)[1])
        else:
            _scopes.move_to_end(scope)
        if name not in values:
            values[name] = factory()
        found = values[name]
    for old in evicted:
        _close(old)
    return found


def forget(scope: str) -> None:
    """Drop one scope and close what it holds (an owner running a DoFn outside a pipeline)."""
    with _lock:
        values = _scopes.pop(scope, None)
    if values:
        _close(values)


def _close(values: dict) -> None:
    for value in values.values():
        close = getattr(value, "close", None)
        if callable(close):
            close()
