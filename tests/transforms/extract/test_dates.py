"""Tests for publication-date parsing and selection (transforms.extract.dates)."""
from datetime import datetime, timezone

import pytest

from transforms.extract import dates
from transforms.util.times import iso


def iso_s(value):
    return iso(value, whole_seconds=True)


NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize('text, expected, aware', [
    ('2019-04-12T01:12:00+05:30', '2019-04-11T19:42:00+00:00', True),
    ('2019-04-12T01:12:00+0530', '2019-04-11T19:42:00+00:00', True),
    ('2019-04-11T19:42:00Z', '2019-04-11T19:42:00+00:00', True),
    ('2019-04-11T19:42:00.000Z', '2019-04-11T19:42:00+00:00', True),
    ('Thu, 11 Apr 2019 19:42:00 GMT', '2019-04-11T19:42:00+00:00', True),
    ('2019-04-11 19:42:00', '2019-04-11T19:42:00+00:00', False),
    ('2019-04-11T19:42:00', '2019-04-11T19:42:00+00:00', False),
])
def test_parse_datetime_formats(text, expected, aware):
    value, had_zone = dates.parse_datetime(text)
    assert iso_s(value) == expected
    assert had_zone is aware


def test_future_date_is_never_chosen():
    chosen = dates.choose_published([dates.candidate('feed', '2030-01-01T00:00:00Z'),
                                     dates.candidate('meta', '2019-04-11T19:42:00Z')], NOW)
    assert chosen.source == 'meta'
    assert chosen.value <= NOW


def test_only_future_dates_give_none():
    assert dates.choose_published([dates.candidate('jsonld', '2031-05-05T10:00:00+00:00')], NOW) is None


def test_earliest_zoned_source_wins_and_naive_is_lower_trust():
    chosen = dates.choose_published([
        dates.candidate('meta', '2019-04-11 10:00:00'),  # naive: earlier, but zone unknown
        dates.candidate('jsonld', '2019-04-11T21:00:00+00:00'),  # modified-looking later time
        dates.candidate('feed', '2019-04-11T19:42:00+00:00'),
    ], NOW)
    assert (chosen.source, iso_s(chosen.value)) == ('feed', '2019-04-11T19:42:00+00:00')


def test_url_date_is_a_fallback():
    chosen = dates.choose_published([dates.date_from_url('http://x.example/2019/11/19/world/story.html')], NOW)
    assert (chosen.source, iso_s(chosen.value)) == ('url', '2019-11-19T00:00:00+00:00')
