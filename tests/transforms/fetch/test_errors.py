"""FetchError: the reasoned failure every fetch raises (transforms/fetch/errors.py)."""
from __future__ import annotations

import pickle

from schemas.errors import Failure
from tests.support.hostile_server import respond
from tests.transforms.fetch.conftest import fails
from transforms.fetch.errors import FetchError


def test_fetch_error_survives_pickling(server, fetcher_for):
    server.route("/busy", respond(503, b"", {"Retry-After": "999"}))
    err = fails(fetcher_for(), server.url + "/busy")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.reason, copy.message, copy.attempts, copy.status, copy.retry_after_s) == (
        err.reason,
        err.message,
        err.attempts,
        503,
        999.0,
    )


def test_fetch_error_is_a_failure_with_reason_and_message():
    err = FetchError("http_404", "HTTP 404", status=404)
    assert isinstance(err, Failure)
    assert (err.reason, err.message, err.status, err.attempts) == ("http_404", "HTTP 404", 404, 0)
    assert str(err) == "http_404: HTTP 404"
    assert FetchError("dns_error").message == "dns_error"  # the reason stands in for a missing message
