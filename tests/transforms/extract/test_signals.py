"""Tests for page_signals (transforms.extract.signals): lines, captions, bylines and structured authors."""
import pytest

from tests.support.corpus import CORPUS
from transforms.extract.results import PageSignals
from transforms.extract.signals import page_signals

SEED_HTML = CORPUS / "seed" / "seed-article.html"


def _page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


@pytest.fixture(scope="module")
def seed_signals():
    if not SEED_HTML.exists():
        pytest.skip("shared corpus not checked out beside the repo")
    return page_signals(SEED_HTML.read_text(encoding="utf-8"))


def test_seed_structured_author_from_single_quoted_jsonld(seed_signals):
    # The author, then the publisher: an agency named as publisher is a credit too (the rules weigh it).
    assert seed_signals.structured_authors == ["IANS", "Seed World News"]


def test_seed_byline_row(seed_signals):
    assert "World News | Indo-Asian News Service | Updated: April 12, 2019 01:12 IST" in seed_signals.bylines


def test_seed_page_lines_keep_credit_and_drop_chrome(seed_signals):
    lines = seed_signals.page_lines
    assert "IANS" in lines
    assert lines.index("IANS") > lines.index("Pyongyang wanted major sanctions relief in exchange for "
                                             "dismantling its Yongbyon nuclear facility.")
    for chrome in ("Top Stories", "Show comments", "Privacy Policy", "India", "Share on Facebook"):
        assert chrome not in lines
    assert not any(line.startswith("Copyright") for line in lines)


def test_captions_are_separate_from_page_lines():
    html = _page('<article><figure><img src="a.jpg"><figcaption>File photo. (Photo: PTI)</figcaption></figure>'
                 '<p>Body paragraph.</p></article>')
    signals = page_signals(html)
    assert signals.caption_lines == ["File photo. (Photo: PTI)"]
    assert signals.page_lines == ["Body paragraph."]


def test_source_label_beside_an_image_is_a_photo_credit():
    html = _page('<div class="image on-image"><img src="a.jpg"><p class="source"><span>Reuters</span></p></div>'
                 '<p>Body.</p><div class="source-agency"><span>Source : IANS</span></div>')
    signals = page_signals(html)
    assert "Reuters" in signals.caption_lines
    assert "Reuters" not in signals.page_lines
    assert signals.bylines == ["Source : IANS"]


def test_lines_follow_blocks_and_breaks():
    html = _page('<div class="story"><span>Para one<br><br>Para <b>two</b> joined</span>'
                 '<p>Para three</p><div hidden>secret</div><p style="display: none">gone</p></div>')
    assert page_signals(html).page_lines == ["Para one", "Para two joined", "Para three"]


def test_related_link_lists_and_nav_are_excluded():
    links = "".join(f'<li><a href="/{i}">Story {i}</a></li>' for i in range(4))
    html = _page(f'<nav><a href="/">Home</a></nav><p>Body.</p><ul>{links}</ul>'
                 f'<div class="related-articles"><h3>Related</h3></div><aside>Aside</aside>')
    assert page_signals(html).page_lines == ["Body."]


def test_meta_authors_skip_profile_urls():
    head = ('<meta name="author" content="PTI"><meta property="article:author" '
            'content="https://www.facebook.com/someone">')
    assert page_signals(_page("<p>x</p>", head)).bylines == ["PTI"]


@pytest.mark.parametrize("jsonld", [
    '{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},'
    '{"@type":"NewsArticle","author":{"@type":"Organization","name":"Reuters"}}]}',
    '[{"@type":"NewsArticle","author":[{"@type":"Organization","name":"Reuters"}]}]',
    '{"@type":"ReportageNewsArticle","author":"Reuters"}',
    "{'@type':'NewsArticle','author':{'@type':'Organization','name':'Reuters'}}",
    '{"@type":"NewsArticle","author":{"@type":"Organization","name":"Reuters"},}',  # trailing comma
])
def test_jsonld_authors_in_every_shape(jsonld):
    html = _page("<p>x</p>", f'<script type="application/ld+json">{jsonld}</script>')
    assert page_signals(html).structured_authors == ["Reuters"]


def test_provider_block_counts_as_structured_author():
    html = _page('<div class="caas-attr-provider"><img alt="Associated Press" src="ap.png"><span>Associated Press'
                 '</span></div><p>Body.</p>')
    assert page_signals(html).structured_authors == ["Associated Press"]


@pytest.mark.parametrize("html", ["", "   ", "<html></html>"])
def test_empty_pages_give_empty_signals(html):
    signals = page_signals(html)
    assert isinstance(signals, PageSignals)
    assert signals._fields == ("page_lines", "caption_lines", "bylines", "structured_authors")
    assert all(value == [] for value in signals)
