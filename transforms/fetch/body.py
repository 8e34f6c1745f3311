"""Bounded streaming decoding of gzip, deflate and brotli response bodies.

The fetcher reads raw bytes (``decode_content=False``) and feeds them to a :class:`BodyDecoder`.
Every decompressor step yields at most :data:`CHUNK` bytes and the sink stops at the decoded cap,
so a decompression bomb costs at most the cap, and a compressed stream that ends before its end
marker raises :class:`Truncated`, which the fetcher retries as ``data_loss``.

Why this is ours and not urllib3's ``decode_content``: up to 2.5, urllib3's streaming API could
fully inflate a small compressed chunk in one read, whatever amount was asked for (CVE-2025-66471,
fixed in 2.6.0; further streaming cases, brotli and connection drain among them, fixed in 2.7.0).
The pinned urllib3 may now bound the output itself, but this decoder also detects a truncated
compressed stream (Truncated -> the data_loss retry), which any replacement must keep. Replacing
it needs tests/hostile as the acceptance suite (bombs, truncation, every coding), with
tests/transforms/fetch.
"""
from __future__ import annotations

import zlib

import brotli

from transforms.fetch.errors import FetchError

# Socket reads and decoder output are bounded to this, so one call never allocates much.
CHUNK = 64 * 1024
# What a corrupt compressed body raises from the decompressors.
DECODE_ERRORS = (zlib.error, brotli.error)


class Overflow(Exception):
    """The body grew past its cap."""


class Truncated(Exception):
    """A compressed stream ended before its end marker."""


class _Sink:
    """Collects decoded bytes up to a cap, keeping exactly cap bytes when it overflows."""

    def __init__(self, cap: int):
        self.cap = cap
        self.size = 0
        self._parts: list[bytes] = []

    def put(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            self._parts.append(data[: len(data) - (self.size - self.cap)])
            raise Overflow()
        self._parts.append(data)

    def value(self) -> bytes:
        return b"".join(self._parts)


class _ZlibStage:
    """Incremental gzip or deflate decoding with bounded output per step."""

    def __init__(self, gzip: bool):
        self._gzip = gzip
        self._head = b""  # deflate: wait for two bytes to tell zlib-wrapped from raw
        self._d = zlib.decompressobj(31) if gzip else None

    def process(self, data: bytes):
        if self._d is None:
            self._head += data
            if len(self._head) < 2:
                return
            self._d = zlib.decompressobj(15 if _looks_zlib_wrapped(self._head) else -15)
            data, self._head = self._head, b""
        yield from self._drain(data)

    def _drain(self, data: bytes):
        while True:
            out = self._d.decompress(data, CHUNK)
            if out:
                yield out
            data = self._d.unconsumed_tail
            if self._d.eof:
                data = self._next_member()
                if not data:
                    return
            elif not data and len(out) < CHUNK:
                return

    def _next_member(self) -> bytes:
        # Concatenated gzip members are legal; anything else after the end is ignored like browsers do.
        rest = self._d.unused_data
        if self._gzip and rest[:2] == b"\x1f\x8b":
            self._d = zlib.decompressobj(31)
            return rest
        return b""

    def finish(self):
        if self._d is None or not self._d.eof:
            raise Truncated()
        return ()


def _looks_zlib_wrapped(head: bytes) -> bool:
    return head[0] & 0x0F == 8 and ((head[0] << 8) | head[1]) % 31 == 0


class _BrotliStage:
    """Incremental brotli decoding with bounded output per step."""

    def __init__(self):
        self._d = brotli.Decompressor()

    def process(self, data: bytes):
        out = self._d.process(data, output_buffer_limit=CHUNK)
        while out:
            yield out
            out = self._d.process(b"", output_buffer_limit=CHUNK)

    def finish(self):
        if not self._d.is_finished():
            raise Truncated()
        return ()


def _stages_for(content_encoding: str | None, max_codings: int) -> list:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    if len(codings) > max_codings:
        # A stack of a thousand gzip layers would recurse past Python's limit; no server needs more
        # than two (urllib3 caps the chain at five since 2.6, CVE-2025-66418).
        raise FetchError("decode_error", f"{len(codings)} stacked Content-Encodings (at most {max_codings})")
    stages = []
    for coding in reversed(codings):  # the last coding listed was applied last
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            stages.append(_ZlibStage(gzip=True))
        elif coding == "deflate":
            stages.append(_ZlibStage(gzip=False))
        elif coding == "br":
            stages.append(_BrotliStage())
        else:
            raise FetchError("decode_error", f"unsupported Content-Encoding {coding!r}")
    return stages


class BodyDecoder:
    """Pipes raw body bytes through the Content-Encoding stages into a capped sink.

    feed() and finish() raise :class:`Overflow` past the cap, :class:`Truncated` for a stream cut
    before its end, and one of :data:`DECODE_ERRORS` for a corrupt one; an unsupported coding is a
    ``decode_error`` FetchError from the constructor.
    """

    def __init__(self, content_encoding: str | None, cap: int, max_codings: int = 5):
        self._stages = _stages_for(content_encoding, max_codings)
        self._sink = _Sink(cap)
        self._started = False

    def feed(self, data: bytes) -> None:
        self._started = True
        self._push(0, data)

    def _push(self, index: int, data: bytes) -> None:
        if index == len(self._stages):
            self._sink.put(data)
            return
        for out in self._stages[index].process(data):
            self._push(index + 1, out)

    def finish(self) -> bytes:
        if self._started:  # an empty body carries no compressed stream to check
            for index, stage in enumerate(self._stages):
                for out in stage.finish():
                    self._push(index + 1, out)
        return self._sink.value()

    def partial(self) -> bytes:
        """What the sink holds so far: the body cut at the cap, after an Overflow."""
        return self._sink.value()
