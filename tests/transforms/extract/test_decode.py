"""Tests for decoding fetched bytes (transforms.extract.decode): BOM, labels, UTF-8 evidence, rejections."""
import pytest

from schemas.errors import Failure
from transforms.extract.decode import decode_html
from transforms.extract.results import ExtractionError

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


def test_extraction_error_is_a_reasoned_failure():
    err = ExtractionError('pdf', 'PDF document')
    assert isinstance(err, Failure)
    assert (err.reason, err.message, str(err)) == ('pdf', 'PDF document', 'pdf: PDF document')
    bare = ExtractionError('empty_page')
    assert (bare.message, str(bare)) == ('empty_page', 'empty_page')
    with pytest.raises(ValueError):
        ExtractionError('no_such_reason')
