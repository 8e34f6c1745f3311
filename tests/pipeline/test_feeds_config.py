"""The feeds file and URL identity helpers."""
import pytest

from pipeline.feeds_config import load_feeds_file, parse_duration, resolve_feeds
from schemas.errors import ConfigError
from transforms.feeds.urls import BadLink, canonical_url, check_link, outlet_of, pick_canonical


def test_feeds_file_reads_urls_names_agencies_and_intervals(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("- url: http://a.example/rss\n  name: A\n  agency: PTI\n  poll_interval: 5m\n"
                    "- http://b.example/atom\n")
    specs = load_feeds_file(path)
    assert [(s.url, s.name, s.agency, s.poll_interval_s) for s in specs] == [
        ("http://a.example/rss", "A", "PTI", 300.0), ("http://b.example/atom", None, None, None)]


@pytest.mark.parametrize("text, message", [
    ("- name: A\n", "line 1: 'url' is missing"),
    ("- url: ftp://a.example/rss\n", "must be an absolute http:// or https:// URL"),
    ("- url: http://a.example/rss\n  colour: red\n", "unknown key(s) 'colour'"),
    ("- url: http://a.example/rss\n  poll_interval: soon\n", "expected a duration"),
    ("- url: http://a.example/rss\n- url: http://a.example/rss\n", "line 2: duplicate feed"),
    ("url: [unclosed\n", "not valid YAML"),
])
def test_feeds_file_errors_name_the_file_line_and_fault(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_feeds_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_durations_and_feed_arguments():
    assert parse_duration("90s") == 90 and parse_duration("1.5h") == 5400 and parse_duration(30) == 30
    with pytest.raises(ConfigError):
        parse_duration("-5m")
    assert [s.url for s in resolve_feeds(["http://x.example/rss", "http://x.example/rss"])] == ["http://x.example/rss"]


def test_canonical_urls_drop_tracking_amp_and_fragments():
    assert canonical_url("HTTP://WWW.Site.example:80/a/b/?utm_source=x&id=3#top") == "http://www.site.example/a/b?id=3"
    assert canonical_url("http://site.example/node/9/world/amp") == "http://site.example/node/9/world"
    assert canonical_url("http://amp.site.example/amp/story") == "http://site.example/story"
    assert pick_canonical("http://a.example/x?utm_medium=rss", "/x") == "http://a.example/x"
    # A canonical on another site (syndication partner credit) does not become our identity.
    assert pick_canonical("http://a.example/x", "http://origin.example/y") == "http://a.example/x"


def test_entry_links_are_checked():
    assert check_link("/a/1", "http://feed.example/rss", 100) == "http://feed.example/a/1"
    for link, reason in [(None, "missing_link"), ("javascript:alert(1)", "bad_link_scheme"),
                         ("http://x.example/" + "a" * 200, "link_too_long")]:
        with pytest.raises(BadLink) as err:
            check_link(link, "http://feed.example/rss", 100)
        assert err.value.reason == reason


def test_outlet_is_the_registered_domain():
    assert outlet_of("http://news.bbc.co.uk/x") == "bbc.co.uk"
    assert outlet_of("http://www.nationaldispatch.example/a") == "nationaldispatch.example"
