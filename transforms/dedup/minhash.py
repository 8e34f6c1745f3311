"""MinHash signatures of word shingles, vectorised with numpy, and LSH band keys."""
from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64(0xFFFFFFFF)


def tokens(text: str) -> list:
    """Lower-cased words; quotes, dashes and spacing differences vanish here."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """Distinct 32-bit hashes of the word n-grams of a text (crc32: stable across processes)."""
    words = tokens(text)
    if len(words) < size:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)]
    return np.unique(np.fromiter((zlib.crc32(g.encode("utf-8")) for g in grams), dtype=np.uint64,
                                 count=len(grams)))


class MinHasher:
    """num_perm universal hash functions, fixed by a seed so every worker and run agrees."""

    def __init__(self, num_perm: int = 128, seed: int = 20240611):
        rng = np.random.RandomState(seed)
        # a, b < 2**32 keep a*x + b below 2**64 for 32-bit x, so uint64 arithmetic never wraps.
        self.a = rng.randint(1, 1 << 32, size=num_perm, dtype=np.uint64)
        self.b = rng.randint(0, 1 << 32, size=num_perm, dtype=np.uint64)
        self.num_perm = num_perm

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        if hashes.size == 0:
            return np.full(self.num_perm, 0xFFFFFFFF, dtype=np.uint32)
        # (n, 1) x (num_perm,) -> (n, num_perm); min over shingles.
        permuted = (hashes[:, None] * self.a[None, :] + self.b[None, :]) % _MERSENNE
        return (permuted & _MAX32).min(axis=0).astype(np.uint32)


def similarity(sig_a: np.ndarray, sig_b: np.ndarray, size_a: int, size_b: int) -> tuple:
    """(estimated Jaccard, estimated containment of the smaller text in the larger)."""
    jaccard = float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)
    small = min(size_a, size_b)
    if small == 0:
        return jaccard, 0.0
    # |A n B| = J (|A| + |B|) / (1 + J)
    overlap = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return jaccard, min(1.0, overlap / small)


def band_ints(signature: bytes | np.ndarray, bands: int) -> list:
    """LSH band keys as ints (band number << 32 | crc32 of the band): what the story index stores.

    Smaller than strings in a big index, and they fit a BIGINT / INT64 column.
    """
    sig = np.frombuffer(signature, dtype=np.uint32) if isinstance(signature, (bytes, bytearray)) else signature
    rows = len(sig) // bands
    view = sig[: rows * bands].reshape(bands, rows)
    return [(i << 32) | zlib.crc32(view[i].tobytes()) for i in range(bands)]
