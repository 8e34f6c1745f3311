"""Decode fetched bytes to text: BOM, then declared charset, then UTF-8, then charset-normalizer.

Plain Python (no Beam). A declared charset wins only when it decodes the bytes cleanly and
plausibly; a single-byte label loses to a body that is valid non-ASCII UTF-8.
"""
from __future__ import annotations

import codecs
import functools
import re

import charset_normalizer

from transforms.extract.results import ExtractionError

_BOMS = (
    (codecs.BOM_UTF32_LE, 'utf-32-le'), (codecs.BOM_UTF32_BE, 'utf-32-be'),
    (codecs.BOM_UTF8, 'utf-8'), (codecs.BOM_UTF16_LE, 'utf-16-le'), (codecs.BOM_UTF16_BE, 'utf-16-be'),
)
# Magic numbers of formats that servers sometimes label text/html.
_BINARY_MAGIC = (
    b'\x89PNG', b'GIF87a', b'GIF89a', b'\xff\xd8\xff', b'PK\x03\x04', b'\x1f\x8b', b'BZh', b'7z\xbc\xaf',
    b'Rar!', b'RIFF', b'OggS', b'ID3', b'\x00\x00\x00\x18ftyp', b'\x00\x00\x00\x20ftyp', b'wOFF', b'wOF2',
    b'\x7fELF', b'MZ', b'\xd0\xcf\x11\xe0',
)
_HTML_CONTENT_TYPES = ('text/html', 'application/xhtml+xml', 'text/plain', 'application/xml', 'text/xml')
_NON_HTML_PREFIXES = ('image/', 'audio/', 'video/', 'font/', 'application/octet-stream', 'application/zip',
                      'application/gzip', 'application/x-', 'application/vnd.', 'application/msword',
                      'application/json', 'application/javascript', 'text/css', 'text/javascript')
_META_CHARSET_RE = re.compile(
    rb'<meta[^>]+?charset\s*=\s*["\']?\s*([a-zA-Z0-9_:.\-]+)', re.IGNORECASE)
_XML_DECL_ENCODING_RE = re.compile(rb'^\s*<\?xml[^>]+encoding\s*=\s*["\']([a-zA-Z0-9_.\-]+)', re.IGNORECASE)
# A charset that maps (nearly) every single byte to a character is a single-byte charset.
_MAX_UNDEFINED_BYTES = 48
# Printable text has few control characters; a decode full of them used the wrong codec.
_CONTROL_RE = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]')
_MAX_CONTROL_RATIO = 0.01
_SNIFF_BYTES = 4096


def decode_html(body: bytes, charset: str | None, content_type: str | None) -> str:
    """Decode an HTTP body to text: BOM, then HTTP charset, then <meta charset>, then UTF-8, then detection.

    A declared charset is only used when it decodes the bytes cleanly and plausibly; otherwise the
    next source is tried. Raises ExtractionError for PDFs, binary payloads and undecodable bytes.
    """
    if not body or not body.strip():
        raise ExtractionError('empty_page', 'response body is empty')
    _reject_non_html(body, content_type)
    bom_text = _decode_bom(body)
    if bom_text is not None:
        return bom_text
    if b'\x00' in body[:_SNIFF_BYTES]:
        raise ExtractionError('binary_content', 'NUL bytes in a body without a UTF-16/32 byte order mark')
    for label in (charset, _sniff_declared_charset(body)):
        text = _try_declared(body, label)
        if text is not None:
            return text
    text = _try_codec(body, 'utf-8')
    if text is not None:
        return text
    return _detect(body)


def _reject_non_html(body: bytes, content_type: str | None) -> None:
    head = body[:1024].lstrip()
    media = (content_type or '').split(';')[0].strip().lower()
    if head.startswith(b'%PDF') or media == 'application/pdf':
        raise ExtractionError('pdf', f'PDF document (content type {media or "unknown"})')
    if any(head.startswith(magic) for magic in _BINARY_MAGIC):
        raise ExtractionError('binary_content', f'binary file signature {head[:8]!r}')
    if media and media not in _HTML_CONTENT_TYPES and media.startswith(_NON_HTML_PREFIXES):
        raise ExtractionError('not_html', f'content type {media}')


def _decode_bom(body: bytes) -> str | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            try:
                return body[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise ExtractionError('undecodable', f'{codec} BOM but invalid {codec}: {exc}') from exc
    return None


def _sniff_declared_charset(body: bytes) -> str | None:
    head = body[:_SNIFF_BYTES]
    match = _XML_DECL_ENCODING_RE.match(head) or _META_CHARSET_RE.search(head)
    return match.group(1).decode('ascii', 'ignore') if match else None


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        return codecs.lookup(label.strip().strip('"\'')).name
    except LookupError:
        return None


def _try_declared(body: bytes, label: str | None) -> str | None:
    codec = _codec_name(label)
    if codec is None:
        return None
    # WHATWG: 'iso-8859-1' and 'ascii' labels mean windows-1252 on the web.
    if codec in ('latin-1', 'iso8859-1', 'ascii'):
        codec = 'cp1252'
    if _decodes_any_bytes(codec) and _is_non_ascii_utf8(body):
        return body.decode('utf-8')
    return _try_codec(body, codec)


@functools.lru_cache(maxsize=64)
def _decodes_any_bytes(codec: str) -> bool:
    """True for single-byte charsets (windows-125x, ISO-8859-x, KOI8 ...), which accept almost any bytes.

    Such a label is rarely proven wrong by a decode error, so a wrong one silently gives mojibake;
    a strictly valid non-ASCII UTF-8 body is much stronger evidence than the label.
    """
    if codec == 'ascii':
        return True
    undefined = 0
    for byte in range(256):
        try:
            bytes((byte,)).decode(codec)
        except UnicodeDecodeError:
            undefined += 1
        except LookupError:
            return False
    return undefined <= _MAX_UNDEFINED_BYTES


def _is_non_ascii_utf8(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


def _try_codec(body: bytes, codec: str) -> str | None:
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return text if _looks_like_text(text) else None


def _looks_like_text(text: str) -> bool:
    sample = text[:20000]
    return not sample or len(_CONTROL_RE.findall(sample)) / len(sample) <= _MAX_CONTROL_RATIO


def _detect(body: bytes) -> str:
    best = charset_normalizer.from_bytes(body).best()
    if best is None or best.encoding is None:
        raise ExtractionError('undecodable', 'no declared or detected charset decodes the body')
    text = _try_codec(body, best.encoding)
    if text is None:
        raise ExtractionError('undecodable', f'detected charset {best.encoding} gives control characters')
    return text
