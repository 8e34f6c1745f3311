"""The paywall flag (transforms.extract.paywall): every labelled page of paywall.csv, each declaration form, teasers."""
import csv
import gzip
import re

import pytest

from schemas.settings import PaywallSettings
from tests.support.corpus import CORPUS
from transforms.clean.cleaning import clean_lines
from transforms.extract.decode import decode_html
from transforms.extract.html import article_jsonld, parse
from transforms.extract.page import extract_page
from transforms.extract.paywall import as_bool, read_paywall, subscribe_prompt, teaser

PAYWALL_CSV = CORPUS / 'sources' / 'paywall.csv'
LIMITS = PaywallSettings()
_WORD = re.compile(r'\w+')


def _labels() -> list:
    if not PAYWALL_CSV.exists():
        return []
    with open(PAYWALL_CSV, newline='', encoding='utf-8') as fh:
        return list(csv.DictReader(fh))


def expected_flag(label: dict):
    """What the csv says the flag must be: the article-level value, else false for a paywalled hasPart."""
    value = {'true': True, 'false': False}.get(label['isAccessibleForFree'])
    if value is None and label['part_paywalled'] == 'true':
        return False
    return value


def _html(rel: str) -> str:
    raw = (CORPUS / rel).read_bytes()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    return decode_html(raw, None, 'text/html')


def _read(html: str):
    tree = parse(html)
    return read_paywall(tree, article_jsonld(tree))


LABELS = _labels()


def test_paywall_csv_is_here_with_its_82_pages():
    assert len(LABELS) == 82, f'{PAYWALL_CSV} missing or changed'


@pytest.mark.parametrize('label', LABELS, ids=[r['path'].rsplit('/', 1)[-1][:40] for r in LABELS])
def test_flag_agrees_with_paywall_csv(label):
    found = _read(_html(label['path']))
    assert found.is_accessible_for_free is expected_flag(label), found
    if label['isAccessibleForFree'] == 'unknown' and label['part_paywalled'] == 'true':
        # No article-level value: the evidence names the paywalled part and its selector.
        assert found.evidence.startswith('jsonld:hasPart.') and label['cssSelector'] in found.evidence
    elif found.is_accessible_for_free is None:
        assert 'undeclared' in found.evidence  # National Review's ""
    else:
        assert found.evidence.startswith(label['declared_in'].split(' | ')[0] + ':')


def test_the_misspelt_key_is_read_and_kept_as_written():
    (ndr,) = [r for r in LABELS if 'isAccessibleforFree' in r['note']]
    found = _read(_html(ndr['path']))
    assert found.is_accessible_for_free is True and '.isAccessibleforFree=' in found.evidence


def _page(head: str = '', body: str = '') -> str:
    return f'<html><head>{head}</head><body>{body}<p>Some article text.</p></body></html>'


def _ld(obj: str) -> str:
    return f'<script type="application/ld+json">{obj}</script>'


@pytest.mark.parametrize('head, flag, evidence', [
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": "False"}'), False,
     'jsonld:NewsArticle.isAccessibleForFree="False"'),
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": "True"}'), True, None),
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": "no"}'), False, None),
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": "http://schema.org/False"}'), False, None),
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": ""}'), None, '(not a boolean: undeclared)'),
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": "maybe"}'), None, None),
    (_ld('{"@type": "Article", "IsAccessibleForFree": false}'), False, 'jsonld:Article.IsAccessibleForFree=false'),
    # Only hasPart declared: paywalled in part, so not free, with the part's selector as evidence.
    (_ld('{"@type": "NewsArticle", "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": false, '
         '"cssSelector": ".paywall"}}'), False, 'jsonld:hasPart.isAccessibleForFree=false (.paywall)'),
    (_ld('{"@type": "NewsArticle", "hasPart": [{"isAccessibleForFree": "False", "cssSelector": [".a", ".b"]}]}'),
     False, '(.a, .b)'),
    # A free part alone says nothing about the rest.
    (_ld('{"@type": "NewsArticle", "hasPart": {"isAccessibleForFree": true, "cssSelector": ".body"}}'), None, None),
    # The article-level value beats hasPart.
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": "True", "hasPart": {"isAccessibleForFree": "False"}}'),
     True, 'jsonld:NewsArticle.isAccessibleForFree="True"'),
    # @graph, lists of blocks, nesting.
    (_ld('{"@context": "https://schema.org", "@graph": [{"@type": "WebSite"}, '
         '{"@type": ["NewsArticle", "Article"], "isAccessibleForFree": false}]}'), False, 'jsonld:NewsArticle.'),
    (_ld('[{"@type": "Organization"}, {"@type": "ReportageNewsArticle", "isAccessibleForFree": true}]'), True, None),
    (_ld('{"@type": "WebPage", "mainEntity": {"@type": "NewsArticle", "isAccessibleForFree": false}}'), False, None),
    # A block JSON cannot read still gives its value (read by pattern, as a last resort).
    (_ld('{"@type": "NewsArticle", "isAccessibleForFree": false, }}'), False, None),
    # Microdata only: content, then text.
    ('<meta itemprop="isAccessibleForFree" content="false">', False, 'microdata:isAccessibleForFree="false"'),
    ('', None, None),
])
def test_declaration_forms(head, flag, evidence):
    found = _read(_page(head))
    assert found.is_accessible_for_free is flag, found
    if evidence:
        assert evidence in (found.evidence or ''), found


def test_json_nested_deeper_than_the_parser_goes_is_read_by_pattern():
    deep = '[' * 100_000 + '{"isAccessibleForFree": "False"}' + ']' * 100_000
    assert read_paywall(parse(_page(_ld(deep)))).is_accessible_for_free is False
    nested = '[' * 900 + '{"@type": "NewsArticle", "isAccessibleForFree": false}' + ']' * 900
    assert _read(_page(_ld(nested))).evidence == 'jsonld:NewsArticle.isAccessibleForFree=false'


def test_microdata_text_and_hasPart_scopes():
    body = ('<div itemscope itemtype="http://schema.org/NewsArticle">'
            '<span itemprop="isAccessibleForFree">True</span>'
            '<div itemprop="hasPart" itemscope itemtype="http://schema.org/WebPageElement">'
            '<meta itemprop="isAccessibleForFree" content="False"><meta itemprop="cssSelector" content=".locked">'
            '</div></div>')
    found = _read(_page(body=body))
    assert found.is_accessible_for_free is True and found.evidence == 'microdata:isAccessibleForFree="True"'
    only_part = body.replace('<span itemprop="isAccessibleForFree">True</span>', '')
    found = _read(_page(body=only_part))
    assert found.is_accessible_for_free is False
    assert found.evidence == 'microdata:hasPart.isAccessibleForFree="False" (.locked)'


def test_a_false_anywhere_at_article_level_beats_a_true():
    head = (_ld('{"@type": "NewsArticle", "isAccessibleForFree": true}')
            + '<meta itemprop="isAccessibleForFree" content="false">')
    found = _read(_page(head))
    assert found.is_accessible_for_free is False and found.evidence.startswith('microdata:')


def test_word_count_is_read_from_the_article_object():
    head = _ld('{"@type": "NewsArticle", "wordCount": "1200", "isAccessibleForFree": false}')
    assert _read(_page(head)).declared_word_count == 1200
    assert _read(_page(_ld('{"@type": "NewsArticle", "wordCount": 850}'))).declared_word_count == 850
    assert _read(_page(_ld('{"@type": "NewsArticle", "wordCount": "many"}'))).declared_word_count is None


def test_as_bool():
    assert [as_bool(v) for v in (True, 'FALSE ', 'Yes', 'https://schema.org/True/', ['false'], 1, None, '')] == \
        [True, False, True, True, False, None, None, None]


# ---------------------------------------------------------------------------
# Teasers
# ---------------------------------------------------------------------------
FULL = ' '.join(['The council met on Tuesday and agreed the budget after a long debate.'] * 40)


def _teaser(body, free=None, declared=None):
    return teaser(body, len(_WORD.findall(body)), free, declared, LIMITS)


@pytest.mark.parametrize('tail, prompt', [
    ('Subscribe to continue reading.', 'subscribe to continue reading'),
    ('Sie möchten weiterlesen? Jetzt abonnieren und alle Artikel lesen.', 'jetzt abonnieren'),
    ('Cet article est réservé aux abonnés. Abonnez-vous pour lire la suite.', 'abonnez-vous'),
    ('¿Quieres seguir leyendo? Suscríbete a El Periódico.', 'suscríbete'),
    ('この記事の続きを読むには会員登録が必要です。', '続きを読むには'),
    ('Per continuare a leggere abbonati.', 'per continuare a leggere'),
])
def test_a_body_ending_in_a_call_to_subscribe_is_a_teaser(tail, prompt):
    body = 'The minister announced the plan on Monday.\n\n' + tail
    assert _teaser(body) == (True, f'subscribe_prompt: "{prompt}"')


@pytest.mark.parametrize('body', [
    FULL + '\n\nSign up for our daily newsletter to get the news first.',  # a newsletter box is no wall
    'Abonnez-vous à notre newsletter. ' + FULL,  # a prompt far from the end is not how a teaser ends
    FULL + '\n\nFolgen Sie uns auf Facebook.',
    FULL,
])
def test_a_full_body_is_not_a_teaser(body):
    assert _teaser(body) == (False, None)
    assert _teaser(body, free=False) == (False, None)  # long enough, even behind a declared paywall


def test_word_count_far_above_the_body_is_a_teaser_unless_the_page_is_declared_free():
    body = ' '.join(['word'] * 200)
    assert _teaser(body, declared=1000) == (True, 'word_count: 200 of 1000 declared words')
    assert _teaser(body, free=False, declared=1000)[0] is True
    assert _teaser(body, free=True, declared=1000) == (False, None)
    assert _teaser(body, declared=300) == (False, None)  # 200 of 300: within what cleaning drops
    assert _teaser(' '.join(['word'] * 20), declared=60) == (False, None)  # too small a count to compare


def test_a_short_body_declared_paywalled_is_a_teaser():
    body = ' '.join(['word'] * 90)
    assert _teaser(body, free=False) == (True, 'paywalled_short: 90 words (isAccessibleForFree false)')
    assert _teaser(body, free=None) == (False, None)


def test_subscribe_prompt_reads_only_the_tail():
    assert subscribe_prompt('Already a subscriber? Log in. ' + 'x' * 400, 300) is None
    assert subscribe_prompt('x' * 400 + ' Already a subscriber? Log in.', 300) == 'already a subscriber'


def _corpus_teaser(rel: str):
    html = _html(rel)
    meta = extract_page(html, 'https://example.com/a')
    kept, _ = clean_lines(meta.raw_lines)
    body = '\n\n'.join(kept)
    return teaser(body, len(_WORD.findall(body)), meta.paywall.is_accessible_for_free,
                  meta.paywall.declared_word_count, LIMITS)


def test_real_pages():
    wsj = next(r['path'] for r in LABELS if 'wsj.com' in r['url'] and r['path'].startswith('aeb/'))
    truncated, why = _corpus_teaser(wsj)
    assert truncated and why.startswith('paywalled_short')
    # Kleine Zeitung declares 2,737 words for a 669-word free article: not a teaser.
    assert _corpus_teaser('news/fundus/at/KleineZeitung_2025_06_30.html.gz') == (False, None)
    # Paywalled pages that serve the whole text (to crawlers) are not teasers.
    assert _corpus_teaser('news/fundus/us/WashingtonPost_2024_04_26.html.gz') == (False, None)
