"""One wire format for instants, at two precisions."""
import datetime as dt

import pytest

from transforms.util.times import iso, iso_of_ts, parse_iso, ts_of


def test_iso_is_utc_with_an_explicit_offset_at_either_precision():
    moment = dt.datetime(2026, 3, 5, 15, 30, 1, 250000, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert iso(moment) == "2026-03-05T10:00:01.250000+00:00"
    assert iso(moment, whole_seconds=True) == "2026-03-05T10:00:01+00:00"
    assert iso(None) is None and iso(None, whole_seconds=True) is None
    with pytest.raises(ValueError):
        iso(dt.datetime(2026, 3, 5))


def test_timestamps_round_trip():
    text = "2026-03-05T10:00:01+00:00"
    assert iso_of_ts(ts_of(text)) == text and parse_iso(text).tzinfo is not None
    assert ts_of(dt.datetime(2026, 3, 5, 10, 0, 1)) == ts_of(text)  # naive means UTC in the warehouse
