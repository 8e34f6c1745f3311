"""Response bodies: Content-Encoding decoding, size caps, bombs and truncation (transforms/fetch/body.py)."""
from __future__ import annotations

import pytest

from tests.support.hostile_server import (
    compress,
    encoded,
    endless,
    endless_chunked,
    lying_length,
    raw_response,
    respond,
    sequence,
    unframed,
)
from tests.transforms.fetch.conftest import fails

# --- decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "br"])
def test_compressed_bodies_are_decoded(server, fetcher_for, encoding):
    payload = b"<p>wire story</p>" * 5000
    server.route("/c", encoded(payload, encoding))
    assert fetcher_for().get(server.url + "/c").body == payload


def test_unsupported_content_encoding_is_decode_error(server, fetcher_for):
    server.route("/z", respond(200, b"\x28\xb5\x2f\xfd", {"Content-Encoding": "zstd"}))
    err = fails(fetcher_for(), server.url + "/z")
    assert err.reason == "decode_error"


def test_a_deep_stack_of_content_encodings_is_decode_error_not_a_crash(server, fetcher_for):
    layers, data = 1200, b"<p>wire story</p>"
    for _ in range(layers):
        data = compress(data, "gzip")
    server.route("/deep", respond(200, data, {"Content-Encoding": ", ".join(["gzip"] * layers)}))
    err = fails(fetcher_for(), server.url + "/deep")
    assert err.reason == "decode_error" and "stacked" in err.message
    two = compress(compress(b"<p>two</p>", "gzip"), "gzip")
    server.route("/two", respond(200, two, {"Content-Encoding": "gzip, gzip"}))
    assert fetcher_for().get(server.url + "/two").body == b"<p>two</p>"


# --- size caps ------------------------------------------------------------------------------


def test_honest_oversized_content_length_is_refused(server, fetcher_for):
    server.route("/big", respond(200, b"x" * 5000))
    err = fails(fetcher_for(max_body_bytes=1000), server.url + "/big")
    assert (err.reason, err.attempts) == ("body_too_large", 1)


@pytest.mark.parametrize("action", [endless(), endless_chunked()], ids=["no-length", "chunked"])
def test_endless_body_without_length_is_cut(server, fetcher_for, action):
    server.route("/big", action)
    assert fails(fetcher_for(max_body_bytes=200_000), server.url + "/big").reason == "body_too_large"


def test_max_bytes_argument_overrides_the_default(server, fetcher_for):
    server.route("/page", unframed(b"y" * 3000))
    fetcher = fetcher_for(max_body_bytes=10_000)
    assert len(fetcher.get(server.url + "/page").body) == 3000
    assert fails(fetcher, server.url + "/page", max_bytes=1000).reason == "body_too_large"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_decompression_bomb_is_refused(server, fetcher_for, encoding):
    bomb = compress(b"\0" * (20 * 1024 * 1024), encoding)
    server.route("/bomb", respond(200, bomb, {"Content-Encoding": encoding}))
    fetcher = fetcher_for(max_body_bytes=1024 * 1024, max_decoded_bytes=1024 * 1024)
    assert len(bomb) < 1024 * 1024
    assert fails(fetcher, server.url + "/bomb").reason == "body_too_large"


# --- truncation -----------------------------------------------------------------------------


def test_body_shorter_than_content_length_is_retried_then_data_loss(server, fetcher_for):
    server.route("/cut", lying_length(b"abc", 100))
    err = fails(fetcher_for(max_retries=2), server.url + "/cut")
    assert (err.reason, err.attempts) == ("data_loss", 3)
    assert server.hits("/cut") == 3


def test_truncation_recovers_on_retry(server, fetcher_for):
    server.route("/cut", sequence(lying_length(b"abc", 100), respond(200, b"whole body")))
    result = fetcher_for().get(server.url + "/cut")
    assert (result.body, result.attempts) == (b"whole body", 2)


def test_truncated_gzip_is_data_loss(server, fetcher_for):
    stream = compress(b"story " * 10000, "gzip")
    server.route("/gz", respond(200, stream[: len(stream) // 2], {"Content-Encoding": "gzip"}))
    err = fails(fetcher_for(max_retries=1), server.url + "/gz")
    assert (err.reason, err.attempts) == ("data_loss", 2)


def test_truncated_chunked_body_is_data_loss(server, fetcher_for):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    server.route("/ch", raw_response(head + b"5\r\nhello\r\n10\r\nonly"))
    assert fails(fetcher_for(max_retries=0), server.url + "/ch").reason == "data_loss"
