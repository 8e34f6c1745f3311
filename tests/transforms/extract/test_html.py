"""Tests for the shared helpers (transforms.extract.html): the one JSON-LD reader and the article object."""
import pytest

from transforms.extract.html import AUTHOR_META_KEYS, article_jsonld, load_jsonld, parse
from transforms.extract.page import extract_page
from transforms.extract.results import ExtractionError
from transforms.extract.signals import page_signals

SINGLE_QUOTED = "{'@type':'NewsArticle','author':'Reuters'}"


def test_strict_reader_distrusts_invalid_json_and_lenient_reader_repairs_it():
    assert load_jsonld(SINGLE_QUOTED) is None
    assert load_jsonld(SINGLE_QUOTED, lenient=True) == {'@type': 'NewsArticle', 'author': 'Reuters'}
    assert load_jsonld('{"headline": "a\tb"}') is None  # a raw tab inside a string
    assert load_jsonld('{"headline": "a\tb"}', lenient=True) == {'headline': 'a\tb'}


def test_strict_reader_strips_comment_markers_around_the_block():
    assert load_jsonld(' <!-- {"@type": "NewsArticle"} --> ') == {'@type': 'NewsArticle'}


def _tree(*blocks: str):
    scripts = ''.join(f'<script type="application/ld+json">{b}</script>' for b in blocks)
    return parse(f'<html><head>{scripts}</head><body><p>x</p></body></html>')


def test_article_types_beat_fallback_types_wherever_they_are():
    tree = _tree('{"@type": "WebPage", "name": "page"}',
                 '{"@graph": [{"@type": "TechArticle", "name": "tech"}, {"@type": "NewsArticle", "name": "news"}]}')
    assert article_jsonld(tree)['name'] == 'news'
    assert article_jsonld(_tree('{"@type": "WebPage", "name": "page"}'))['name'] == 'page'
    assert article_jsonld(_tree('{"@type": "Person"}')) == {}


def test_parse_rejects_an_empty_document():
    with pytest.raises(ExtractionError) as err:
        parse('<?xml version="1.0"?>  ')
    assert err.value.reason == 'empty_page'


@pytest.mark.parametrize('key', AUTHOR_META_KEYS)
def test_metadata_and_signals_read_the_same_author_meta_keys(key):
    html = (f'<html><head><meta name="{key}" content="Ann Smith"></head><body><article><h1>Headline here now</h1>'
            '<p>' + 'Body text sentence goes here. ' * 30 + '</p></article></body></html>')
    assert extract_page(html, 'http://x.example/a').authors == ['Ann Smith']
    assert page_signals(html).bylines == ['Ann Smith']


def test_a_json_ld_block_with_an_endless_integer_is_untrusted_not_a_crash():
    block = '{"@type": "NewsArticle", "wordCount": ' + "9" * 5000 + "}"
    assert load_jsonld(block) is None


def test_parse_gives_lxml_html_elements_and_comments_in_every_thread():
    from concurrent.futures import ThreadPoolExecutor

    import lxml.html

    def parsed(n: int):
        tree = parse(f"<html><body><!-- c --><div id='d{n}'><p>One <b>two</b></p></div></body></html>")
        div = tree.get_element_by_id(f"d{n}")
        kinds = {type(node) for node in tree.iter()}
        div.find("p/b").drop_tag()
        return div.text_content(), kinds

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(parsed, range(16)))
    assert all(text == "One two" for text, _ in results)
    assert all(kinds == {lxml.html.HtmlElement, lxml.html.HtmlComment} for _, kinds in results)
