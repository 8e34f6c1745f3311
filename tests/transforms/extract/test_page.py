"""Tests for page extraction (transforms.extract.page): the seed page, syndication pages, rejections, dates."""
import json
import sys
from datetime import datetime, timezone

import pytest

from tests.support.corpus import CORPUS
from transforms.clean.cleaning import clean_lines
from transforms.extract.decode import decode_html
from transforms.extract.page import extract_page
from transforms.extract.results import ExtractionError, PageMeta

SEED = CORPUS / 'seed'
SYNDICATION_DEV = CORPUS / 'syndication' / 'dev'
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason='shared corpus not checked out beside the repo')


def _body(page: PageMeta) -> str:
    kept, _ = clean_lines(page.raw_lines)
    return '\n\n'.join(kept)


def _ws(text: str) -> str:
    return ' '.join(text.split())


# ---------------------------------------------------------------------------
# Seed page
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def seed():
    expected = json.loads((SEED / 'seed-expected.json').read_text(encoding='utf-8'))
    html = decode_html((SEED / 'seed-article.html').read_bytes(), None, 'text/html; charset=utf-8')
    return expected, html


@needs_corpus
def test_seed_fields_with_feed_date(seed):
    expected, html = seed
    page = extract_page(html, expected['url'], feed_published_at='Thu, 11 Apr 2019 19:42:00 GMT', now=NOW)
    assert page.title == expected['title']
    assert page.description == expected['description']
    assert page.section == 'US'
    assert page.language == 'en'
    assert page.canonical_url == expected['url']
    assert page.published_at == expected['published_at'] == '2019-04-11T19:42:00+00:00'
    assert page.published_at_source == 'feed'


@needs_corpus
def test_seed_date_from_meta_without_feed(seed):
    expected, html = seed
    page = extract_page(html, expected['url'], now=NOW)
    # The page's JSON-LD is not valid JSON (single quotes), so the meta tag is the trusted source.
    assert page.published_at == '2019-04-11T19:42:00+00:00'
    assert page.published_at_source == 'meta'


@needs_corpus
def test_seed_body_and_credit_line(seed):
    expected, html = seed
    page = extract_page(html, expected['url'], now=NOW)
    assert page.raw_lines[-1] == 'IANS'  # kept raw for agency tagging
    assert expected['title'] not in page.raw_lines
    assert expected['description'] not in page.raw_lines
    body = _body(page)
    assert _ws(body) == _ws(expected['body'])
    for phrase in expected['must_not_contain']:
        assert phrase not in body
    _, removed = clean_lines(page.raw_lines)
    assert 'IANS' in removed


# ---------------------------------------------------------------------------
# Syndication dev pages: title exact and body F1
# ---------------------------------------------------------------------------
SAMPLE_OUTLETS = ('nationaldispatch', 'commercestandard', 'dailypathfinder', 'deccancourier', 'bayjournal',
                  'arabiangazette', 'yondernews', 'capitalchronicle')


def _labels_sample():
    if not SYNDICATION_DEV.is_dir():
        return []
    rows = [json.loads(line) for line in (SYNDICATION_DEV / 'labels.jsonl').read_text(encoding='utf-8').splitlines()]
    return [next(r for r in rows if r['outlet'] == outlet) for outlet in SAMPLE_OUTLETS]


@pytest.fixture(scope='module')
def score_module():
    sys.path.insert(0, str(CORPUS / 'syndication'))
    try:
        import score
    finally:
        sys.path.pop(0)
    return score


@needs_corpus
@pytest.mark.parametrize('label', _labels_sample(), ids=lambda r: r['outlet'])
def test_syndication_page_title_and_body(label, score_module):
    html = decode_html((SYNDICATION_DEV / label['path']).read_bytes(), None, 'text/html')
    page = extract_page(html, label['url'], feed_title=None, now=NOW)
    assert score_module.norm_title(page.title) == score_module.norm_title(label['title'])
    tp, fp, fn = score_module.string_shingle_matching(label['body'], _body(page))
    assert 2 * tp / (2 * tp + fp + fn) >= 0.95


# ---------------------------------------------------------------------------
# Rejections and the result's shape
# ---------------------------------------------------------------------------
def test_page_without_article_text_raises():
    with pytest.raises(ExtractionError) as err:
        extract_page('<html><head><title>Nothing</title></head><body><nav><a href="/">Home</a></nav></body></html>',
                     'http://example.com/x', now=NOW)
    assert err.value.reason == 'no_article_text'


def test_extract_page_returns_page_meta():
    html = ('<html lang="en-GB"><head><meta name="author" content="Ann Smith and Bob Jones">'
            '<meta property="article:tag" content="Talks"><link rel="canonical" href="/2020/02/03/story">'
            '</head><body><article><h1>Headline here now</h1><p>' + 'Body text sentence goes here. ' * 30
            + '</p></article></body></html>')
    page = extract_page(html, 'http://x.example/a?utm=1', feed_summary='Summary.', feed_categories=('World',),
                        now=NOW)
    assert isinstance(page, PageMeta)
    assert page._fields == ('title', 'description', 'authors', 'section', 'tags', 'language', 'published_at',
                            'published_at_source', 'canonical_url', 'raw_lines', 'paywall')
    assert page.paywall == (None, None, None)  # the page declares no paywall and no wordCount
    assert (page.title, page.description, page.authors) == ('Headline here now', 'Summary.', ['Ann Smith', 'Bob Jones'])
    assert (page.section, page.tags, page.language) == ('World', ['Talks', 'World'], 'en')
    assert page.canonical_url == 'http://x.example/2020/02/03/story'
    assert page.raw_lines and page.raw_lines[0].startswith('Body text sentence')


def test_extract_page_records_future_meta_as_untrusted():
    html = ('<html><head><meta property="article:published_time" content="2099-01-01T00:00:00Z">'
            '</head><body><article><h1>Headline here now</h1><p>' + 'Body text sentence goes here. ' * 30
            + '</p></article></body></html>')
    page = extract_page(html, 'http://x.example/2020/02/03/story', now=NOW)
    assert page.published_at == '2020-02-03T00:00:00+00:00'
    assert page.published_at_source == 'url'


def test_an_article_split_over_repeated_containers_is_read_whole():
    para = '<p>{} The council voted to repair the bridge, and the work will start in the spring of next year.</p>'
    part = '<div class="body__container article__body">{}</div>'
    first = part.format(''.join(para.format(f'First part, paragraph {i}.') for i in range(4)))
    second = part.format(''.join(para.format(f'Second part, paragraph {i}.') for i in range(4)))
    html = (f'<html><head><title>Bridge</title></head><body><h1>Bridge repair approved</h1><article>{first}'
            f'<div class="ad"><a href="/x">Subscribe now</a></div>{second}</article>'
            '<aside class="related"><p>Other story</p></aside></body></html>')
    body = _body(extract_page(html, 'https://towncrier.example/a', now=NOW))
    assert 'First part, paragraph 0.' in body and 'Second part, paragraph 3.' in body
    assert 'Subscribe now' not in body and 'Other story' not in body
