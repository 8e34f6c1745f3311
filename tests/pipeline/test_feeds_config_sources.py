"""The feeds file's other entry kinds: sitemaps, sites, agency endpoints and drop folders, and their errors."""
import pytest

from pipeline.feeds_config import load_feeds_file
from schemas.errors import ConfigError


def test_each_kind_of_source_becomes_its_spec(tmp_path):
    (tmp_path / "drop").mkdir()
    path = tmp_path / "feeds.yaml"
    path.write_text("- url: http://a.example/rss\n"
                    "- url: http://a.example/sitemap.xml.gz\n  type: sitemap\n"
                    "- site: https://Outlet.example/news/\n  name: Outlet\n"
                    "- url: https://api.wire.example/content\n  format: ninjs\n"
                    "  headers: {X-Api-Key: {env: AP_API_KEY}}\n"
                    "- folder: drop\n  format: newsml-g2\n  agency: dpa\n"
                    "- folder: gs://wire-bucket/dpa/\n  format: newsml\n")
    specs = load_feeds_file(path)
    assert [(s.kind, s.url, s.format, s.headers) for s in specs] == [
        ("feed", "http://a.example/rss", None, ()),
        ("sitemap", "http://a.example/sitemap.xml.gz", None, ()),
        ("site", "https://Outlet.example/", None, ()),
        ("endpoint", "https://api.wire.example/content", "ninjs", (("X-Api-Key", "AP_API_KEY"),)),
        ("folder", str((tmp_path / "drop").resolve()), "newsml-g2", ()),
        ("folder", "gs://wire-bucket/dpa", "newsml", ()),
    ]
    assert specs[2].name == "Outlet" and specs[4].agency == "dpa"


@pytest.mark.parametrize("text, message", [
    ("- url: http://a.example/x\n  site: http://a.example\n", "give one of 'url'"),
    ("- url: http://a.example/x\n  type: podcast\n", "type 'podcast' is not known"),
    ("- url: http://a.example/x\n  format: rss\n", "format 'rss' is not known; use one of ninjs, newsml-g2, newsml"),
    ("- url: http://a.example/x\n  type: sitemap\n  format: ninjs\n", "'type' goes with 'url' only"),
    ("- site: ftp://a.example\n", "site 'ftp://a.example' must be an absolute http"),
    ("- folder: /no/such/dir/anywhere\n  format: ninjs\n", "is not a directory"),
    ("- folder: gs://bucket/x\n", "a drop folder needs 'format'"),
    ("- folder: s3://bucket/x\n  format: ninjs\n", "only local directories and gs:// buckets"),
    ("- url: http://a.example/x\n  headers: {X-Api-Key: {env: K}}\n", "'headers' are for agency endpoints"),
    ("- url: http://a.example/x\n  format: ninjs\n  headers: {X-Api-Key: s3cret}\n",
     "give its value as {env: VARIABLE}"),
    ("- url: http://a.example/x\n  format: ninjs\n  headers: {X-Api-Key: {env: 'not a name'}}\n",
     "is not an environment variable name"),
    ("- url: http://a.example/x\n  format: ninjs\n  headers: {'Bad Header': {env: K}}\n",
     "is not a valid HTTP header name"),
])
def test_source_errors_name_the_file_line_and_fault(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_feeds_file(path)
    assert str(path) in str(err.value) and "line 1" in str(err.value) and message in str(err.value)
    assert "s3cret" not in str(err.value)
