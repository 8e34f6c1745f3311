"""The dedup stage: the builder composes one of the two under the label 'Deduplicate'.

Batch resolves stories with a GroupByKey per LSH band and a union-find; a stream assigns them
in one stateful index. Both share signing (beam_sign), the pure story logic (stories) and the
warehouse look-ups (beam_lookups), and neither imports the other.
"""
from transforms.dedup.beam_batch import DeduplicateBatch  # noqa: F401
from transforms.dedup.beam_streaming import DeduplicateStreaming  # noqa: F401
