"""Tests for body extraction (transforms.extract.body): when the fallback comparison runs, and what it changes."""
import pytest
import trafilatura
from lxml import etree

from transforms.extract import body as body_module
from transforms.extract.body import body_lines, drop_header_lines, header_texts
from transforms.extract.html import parse

URL = 'https://towncrier.example/2020/02/03/bridge'
SENTENCE = 'The council voted on Tuesday to repair the old bridge over the river before winter comes. '
OTHER = 'A different story about the harvest festival and the market stalls in the old town square. '


@pytest.fixture
def extract_calls(monkeypatch):
    """The keyword arguments of every trafilatura.extract call body_lines makes (the calls still run)."""
    calls = []
    real = trafilatura.extract

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(body_module.trafilatura, 'extract', spy)
    return calls


def test_an_article_of_paragraphs_costs_one_fast_extraction(extract_calls):
    paragraphs = ''.join(f'<p>Paragraph {i}. {SENTENCE * 3}</p>' for i in range(5))
    html = f'<html><body><article><h1>Bridge</h1>{paragraphs}</article></body></html>'
    lines = body_lines(parse(html), URL, {})
    assert lines[-1].startswith('Paragraph 4. The council voted')
    assert [call.get('fast') for call in extract_calls] == [True]


def test_text_the_fast_pass_cannot_see_is_found_by_the_fallback_comparison(extract_calls):
    # Text in <span>s between <br>s: the rule-based extractor alone finds nothing.
    spans = '<br>'.join(f'<span>{SENTENCE * 3}</span>' for _ in range(5))
    lines = body_lines(parse(f'<html><body><div id="x">{spans}</div></body></html>'), URL, {})
    assert sum(map(len, lines)) > 1000 and lines[0].startswith('The council voted')
    assert [call.get('fast') for call in extract_calls][:2] == [True, None]


def test_related_posts_after_a_short_article_are_not_read_as_body():
    # The fallback comparison would prefer readability's longer reading, which takes in the teasers.
    teasers = ''.join(f'<article class="post"><p>{OTHER * 5}</p></article>' for _ in range(6))
    html = (f'<html><body><div id="primary"><article class="post"><h1>Bridge</h1><p>{SENTENCE * 8}</p></article>'
            f'<article class="post"><h3>You may also like</h3>{teasers}</article></div></body></html>')
    lines = body_lines(parse(html), URL, {})
    assert any(line.startswith('The council voted') for line in lines)
    assert not any('harvest festival' in line or 'You may also like' in line for line in lines)


def _last_paragraph(inner: str) -> str:
    paragraphs = ''.join(f'<p>Paragraph {i}. {SENTENCE * 2}</p>' for i in range(4))
    html = (f'<html><body><article><div class="article-content">{paragraphs}'
            f'<p>The company, The We Company,{inner} announced on Monday that it would sell the plant.</p>'
            '</div></article></body></html>')
    return body_lines(parse(html), URL, {})[-1]


@pytest.mark.parametrize('inner', [
    '<span class="tooltip-indicator"></span>',  # an empty inline element
    '<!-- -->',  # a comment between two text runs, as React renders them
    '<a href="/x"><i class="icon"></i></a>',  # an empty icon inside a link
])
def test_an_empty_element_or_comment_inside_a_paragraph_keeps_the_text_after_it(inner):
    assert _last_paragraph(inner) == 'The company, The We Company, announced on Monday that it would sell the plant.'


def test_inline_elements_with_text_and_line_breaks_are_kept():
    html = '<html><body><p>One <b></b>two<br>three <span>four</span><img src="a.png"> five</p></body></html>'
    para = body_module._prepare_tree(parse(html)).find('.//p')
    expected = '<p>One two<br/>three <span>four</span><img src="a.png"/> five</p>'
    assert etree.tostring(para, encoding='unicode') == expected


def _top_lines(header: str, body: str) -> list[str]:
    tree = parse(f'<html><body><article><header><h1>Bridge repair approved</h1>{header}</header>'
                 f'<div class="article-content">{body}</div></article></body></html>')
    return drop_header_lines(body_lines(tree, URL, {}), header_texts(tree, 'Bridge repair approved'))


def test_a_summary_class_on_the_first_of_several_paragraphs_does_not_make_it_a_standfirst():
    body = ('<p id="speakable-summary">The council voted on Tuesday to repair the old bridge, its chair said.</p>'
            + ''.join(f'<p>Paragraph {i}. {SENTENCE * 2}</p>' for i in range(4)))
    assert _top_lines('', body)[0] == 'The council voted on Tuesday to repair the old bridge, its chair said.'


def test_a_standfirst_before_the_byline_is_a_header_text_but_a_leading_body_paragraph_is_not():
    tree = parse('<html><body><article><h1>Bridge repair approved</h1>'
                 '<p class="article-summary">Work on the old bridge starts before winter.</p><div>By Ann Smith</div>'
                 '<div><p class="summary">The council voted on Tuesday.</p><p>It will cost two million.</p></div>'
                 '</article></body></html>')
    texts = header_texts(tree, 'Bridge repair approved')
    assert 'work on the old bridge starts before winter.' in texts
    assert not any('council voted' in text for text in texts)


def test_a_hover_card_inside_a_paragraph_is_dropped_and_the_sentence_kept():
    card = ('<span class="card"><img src="p.jpg"><a href="/people/ann">Ann Smith</a>'
            '<a href="/a/1">Council backs the new bridge plan after a long debate</a> '
            '<a href="/a/2">Ann Smith says the river path will reopen in May</a> <a href="/people/ann">MORE</a></span>')
    line = _last_paragraph(f' led by <a href="/people/ann">Ann Smith</a>{card}')
    assert line == 'The company, The We Company, led by Ann Smith announced on Monday that it would sell the plant.'


def test_a_span_of_prose_with_two_links_is_kept():
    inner = ' <span>led by <a href="/people/ann">Ann Smith</a> and <a href="/people/bob">Bob Jones</a>,</span>'
    line = _last_paragraph(inner)
    assert line == ('The company, The We Company, led by Ann Smith and Bob Jones, announced on Monday that it '
                    'would sell the plant.')
