"""Tests for title and author choice (transforms.extract.metadata) on small pages written for the rule they test."""
from transforms.extract.page import extract_page

BODY = "<p>" + "The council met on Tuesday and voted to repair the old bridge before winter comes. " * 3 + "</p>"


def _page(head: str, body: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}<article>{BODY}</article></body></html>"


def _ld(obj: str) -> str:
    return f'<script type="application/ld+json">{obj}</script>'


def test_the_title_most_sources_agree_on_beats_an_h1_with_a_kicker():
    html = _page('<meta property="og:title" content="Bridge repair approved">'
                 + _ld('{"@type": "NewsArticle", "headline": "Bridge repair approved"}')
                 + "<title>Bridge repair approved | Town Crier</title>",
                 "<h1>Council vote: Bridge repair approved after long debate</h1>")
    assert extract_page(html, "https://towncrier.example/a").title == "Bridge repair approved"


def test_only_the_site_name_leaves_the_title_so_a_short_tail_of_the_headline_stays():
    html = _page('<meta property="og:site_name" content="Town Crier"><meta property="og:title" content="Bridge repair">'
                 "<title>Bridge repair approved - report | Town Crier</title>",
                 "<h1>Bridge repair approved - report</h1>")
    assert extract_page(html, "https://towncrier.example/a").title == "Bridge repair approved - report"


def test_without_a_majority_the_h1_confirmed_by_the_head_is_kept():
    html = _page('<meta property="og:title" content="Bridge repair approved by the council">'
                 "<title>Something else entirely</title>", "<h1>Bridge repair approved</h1>")
    assert extract_page(html, "https://towncrier.example/a").title == "Bridge repair approved"


def test_authors_drop_the_outlet_its_newsroom_its_domain_and_handles_beside_a_person():
    html = _page('<meta property="og:site_name" content="Town Crier">'
                 '<meta name="author" content="Ann Smith (ans)">'
                 + _ld('{"@type": "NewsArticle", "author": [{"name": "Town Crier"}, {"name": "Crier-Redaktion"}, '
                       '{"name": "www.towncrier.example"}, {"name": "annsmith99"}, {"name": "CNN"}]}'))
    assert extract_page(html, "https://edition.cnn.example/a").authors == ["Ann Smith"]


def test_an_organisation_alone_stays_and_a_typed_agency_yields_to_a_person():
    alone = _page('<meta property="og:site_name" content="Town Crier"><meta name="author" content="Town Crier">')
    assert extract_page(alone, "https://towncrier.example/a").authors == ["Town Crier"]
    agency = _ld('{"@type": "NewsArticle", "author": [{"@type": "Organization", "name": "dpa"}, '
                 '{"@type": "Person", "name": "Jo Berg"}]}')
    assert extract_page(_page(agency), "https://towncrier.example/a").authors == ["Jo Berg"]
    only_agency = _ld('{"@type": "NewsArticle", "publisher": {"name": "Town Crier"}, "author": ['
                      '{"@type": "Organization", "name": "dpa"}, {"@type": "Organization", "name": "Town Crier"}]}')
    assert extract_page(_page(only_agency), "https://towncrier.example/a").authors == ["dpa"]


def test_a_reporter_title_after_a_korean_name_is_not_part_of_it():
    html = _page('<meta name="author" content="신현주 기자">')
    assert extract_page(html, "https://hankookilbo.example/a").authors == ["신현주"]


def test_a_head_title_that_is_the_headline_plus_a_section_and_site_tail_votes_for_the_headline():
    html = _page('<meta property="og:title" content="Bridge repair approved-Politics|Town Crier">'
                 + _ld('{"@type": "NewsArticle", "headline": "Bridge repair approved"}')
                 + "<title>Bridge repair approved-Politics|Town Crier</title>")
    assert extract_page(html, "https://towncrier.example/a").title == "Bridge repair approved"


def test_og_title_and_title_do_not_strip_each_other_to_outvote_the_h1():
    html = _page('<meta property="og:title" content="Opinion | Bridge repair approved">'
                 "<title>Opinion | Bridge repair approved - Town Crier</title>", "<h1>Bridge repair approved</h1>")
    assert extract_page(html, "https://towncrier.example/a").title == "Bridge repair approved"


def test_a_tail_the_h1_shows_is_part_of_the_headline():
    html = _page(_ld('{"@type": "NewsArticle", "headline": "Bridge repair approved"}')
                 + "<title>Bridge repair approved - report</title>", "<h1>Bridge repair approved - report</h1>")
    assert extract_page(html, "https://towncrier.example/a").title == "Bridge repair approved - report"
