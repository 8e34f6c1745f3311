"""Tests for decoding, page extraction and date selection (transforms.extraction, transforms.dates)."""
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from transforms.extract import dates
from transforms.clean.cleaning import clean_lines
from transforms.extract.page import ExtractionError, decode_html, extract_page

# CI clones the repo into a folder with shared/ beside it; the corpus is read-only test data.
CORPUS = Path(__file__).resolve().parents[2].parent / 'shared' / 'corpus'
SEED = CORPUS / 'seed'
SYNDICATION_DEV = CORPUS / 'syndication' / 'dev'
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason='shared corpus not checked out beside the repo')


def _body(page: dict) -> str:
    kept, _ = clean_lines(page['raw_lines'])
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
    assert page['title'] == expected['title']
    assert page['description'] == expected['description']
    assert page['section'] == 'US'
    assert page['language'] == 'en'
    assert page['canonical_url'] == expected['url']
    assert page['published_at'] == expected['published_at'] == '2019-04-11T19:42:00+00:00'
    assert page['published_at_source'] == 'feed'


@needs_corpus
def test_seed_date_from_meta_without_feed(seed):
    expected, html = seed
    page = extract_page(html, expected['url'], now=NOW)
    # The page's JSON-LD is not valid JSON (single quotes), so the meta tag is the trusted source.
    assert page['published_at'] == '2019-04-11T19:42:00+00:00'
    assert page['published_at_source'] == 'meta'


@needs_corpus
def test_seed_body_and_credit_line(seed):
    expected, html = seed
    page = extract_page(html, expected['url'], now=NOW)
    assert page['raw_lines'][-1] == 'IANS'  # kept raw for agency tagging
    assert expected['title'] not in page['raw_lines']
    assert expected['description'] not in page['raw_lines']
    body = _body(page)
    assert _ws(body) == _ws(expected['body'])
    for phrase in expected['must_not_contain']:
        assert phrase not in body
    _, removed = clean_lines(page['raw_lines'])
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
    assert score_module.norm_title(page['title']) == score_module.norm_title(label['title'])
    tp, fp, fn = score_module.string_shingle_matching(label['body'], _body(page))
    assert 2 * tp / (2 * tp + fp + fn) >= 0.95


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------
PAGE = '<html><head><title>Café</title></head><body><p>Crème brûlée – naïve café “quotes”.</p></body></html>'


def test_http_label_latin1_on_utf8_body_gives_utf8_text():
    assert decode_html(PAGE.encode('utf-8'), 'iso-8859-1', 'text/html') == PAGE


def test_meta_charset_used_when_http_charset_missing():
    html = '<html><head><meta charset="windows-1252"></head><body><p>Crème brûlée – “ok”</p></body></html>'
    assert 'Crème brûlée – “ok”' in decode_html(html.encode('cp1252'), None, 'text/html')


def test_wrong_utf8_label_on_cp1252_body_is_not_mojibake():
    html = '<html><head><meta charset="windows-1252"></head><body><p>Crème brûlée</p></body></html>'
    text = decode_html(html.encode('cp1252'), 'utf-8', 'text/html')
    assert 'Crème brûlée' in text and '\ufffd' not in text


def test_bom_beats_declared_charset():
    body = '\ufeff'.encode('utf-16-le') + PAGE.encode('utf-16-le')
    assert decode_html(body, 'iso-8859-1', 'text/html') == PAGE


def test_pdf_is_rejected():
    with pytest.raises(ExtractionError) as err:
        decode_html(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj', None, 'text/html')
    assert err.value.reason == 'pdf'


@pytest.mark.parametrize('body, content_type, reason', [
    (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR', 'text/html', 'binary_content'),
    (b'<html>\x00\x01\x02\x00garbage', 'text/html', 'binary_content'),
    (b'<html><body>hello</body></html>', 'image/jpeg', 'not_html'),
    (b'   ', 'text/html', 'empty_page'),
])
def test_binary_and_non_html_bodies_are_rejected(body, content_type, reason):
    with pytest.raises(ExtractionError) as err:
        decode_html(body, None, content_type)
    assert err.value.reason == reason


def test_page_without_article_text_raises():
    with pytest.raises(ExtractionError) as err:
        extract_page('<html><head><title>Nothing</title></head><body><nav><a href="/">Home</a></nav></body></html>',
                     'http://example.com/x', now=NOW)
    assert err.value.reason == 'no_article_text'


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------
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
    assert dates.to_iso(value) == expected
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
    assert (chosen.source, dates.to_iso(chosen.value)) == ('feed', '2019-04-11T19:42:00+00:00')


def test_url_date_is_a_fallback():
    chosen = dates.choose_published([dates.date_from_url('http://x.example/2019/11/19/world/story.html')], NOW)
    assert (chosen.source, dates.to_iso(chosen.value)) == ('url', '2019-11-19T00:00:00+00:00')


def test_extract_page_records_future_meta_as_untrusted():
    html = ('<html><head><meta property="article:published_time" content="2099-01-01T00:00:00Z">'
            '</head><body><article><h1>Headline here now</h1><p>' + 'Body text sentence goes here. ' * 30
            + '</p></article></body></html>')
    page = extract_page(html, 'http://x.example/2020/02/03/story', now=NOW)
    assert page['published_at'] == '2020-02-03T00:00:00+00:00'
    assert page['published_at_source'] == 'url'
