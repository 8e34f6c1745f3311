"""Every sitemap and robots.txt of the corpus through the sitemap parser, against manifest.csv."""
import gzip

import pytest

from tests.support.sources import manifest_rows, read, truth
from transforms.feeds.sitemaps import SitemapError, parse_sitemap, robots_sitemaps

ROWS = manifest_rows("sitemaps/")
# Files that give nothing at all, and the reason they give.
REFUSED = {"not_sitemap": "not_a_sitemap"}


@pytest.mark.parametrize("row", [r for r in ROWS if r["kind"] == "robots_txt"], ids=lambda r: r["path"])
def test_robots_txt_lists_the_manifests_sitemap_lines(row):
    found = robots_sitemaps(read(row).decode("utf-8"))
    assert len(found) == int(row["count"])
    assert found[0] == row["first_loc"]


@pytest.mark.parametrize("row", [r for r in ROWS if r["kind"] != "robots_txt"], ids=lambda r: r["path"])
def test_each_sitemap_gives_the_manifests_counts_or_a_reason(row):
    data = read(row)
    if row["kind"] in REFUSED or row["count"] == "0":
        with pytest.raises(SitemapError) as err:
            parse_sitemap(data)
        assert err.value.reason in {"not_a_sitemap", "gzip_corrupt", "empty_sitemap"}
        assert err.value.message
        return
    sitemap = parse_sitemap(data)
    listed = sitemap.children if sitemap.kind == "index" else sitemap.urls
    assert len(listed) == int(row["count"])
    first = listed[0][0] if sitemap.kind == "index" else listed[0].loc
    assert (first or "") == row["first_loc"]
    assert sitemap.kind == {"sitemap_index": "index", "sitemap_text": "text"}.get(row["kind"], "urlset")
    if row["wellformed"] == "False":
        # Broken files keep what came before the break and say why.
        assert sitemap.problem is not None and sitemap.problem[0] == "sitemap_broken"
    else:
        assert sitemap.problem is None
    if row["kind"] == "news_sitemap":
        news = [u for u in sitemap.urls if u.news_published]
        assert len(news) == int(row["news_count"])
        head = next(u for u in sitemap.urls if u.news_title or u.news_published)
        assert head.news_published == row["first_news_publication_date"]
        assert head.news_published_at is not None
        assert head.news_title == row["first_news_title"]
        assert f"{head.news_publication} ({head.news_language})" == row["first_news_publication"]
        keywords = truth(row)["first_news"].get("keywords") or ""
        assert list(head.news_keywords) == [k.strip() for k in keywords.split(",") if k.strip()]


def test_gzip_is_read_by_its_magic_bytes_and_a_bomb_is_cut():
    plain = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.example/1</loc></url></urlset>'
    assert parse_sitemap(gzip.compress(plain)).urls[0].loc == "http://a.example/1"
    bomb = gzip.compress(plain[:-9] + b"<!--" + b" " * 2_000_000 + b"-->" + plain[-9:])
    with pytest.raises(SitemapError) as err:
        parse_sitemap(bomb, max_bytes=100_000)
    assert err.value.reason == "too_large"


def test_entities_are_never_expanded():
    billion = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
               b'<!ENTITY ext SYSTEM "file:///etc/passwd">]><urlset><url><loc>http://a.example/&lol2;&ext;</loc>'
               b'</url></urlset>')
    loc = parse_sitemap(billion).urls[0].loc
    assert "lollol" not in (loc or "") and "root:" not in (loc or "")
