"""IPTC NewsML 1.2 (AFP, EFE, Business Wire) to AgencyItems, one per NewsItem (no Beam).

The body is the first of: NITF body.content; the NewsComponent whose Role names a body; the first
DataContent that is not CSS and not a headline, stylesheet, contact or logo component. A NewsItem
whose main component is a photo, video or graphic is a picture item: its text is a caption.
"""
from __future__ import annotations

from transforms.deliveries.items import AgencyItem, DeliveryError, local, secure_xml, tree_paragraphs, ws

_NOT_BODY_ROLES = ("headline", "subheadline", "stylesheet", "contact", "logo")
_MEDIA_TYPES = {"photo": "picture", "graphic": "graphic", "video": "video", "audio": "audio"}


def parse_newsml1(data: bytes, max_items: int = 1000) -> list:
    """The NewsItems of a NewsML 1.2 document; raises DeliveryError when it is not XML or not NewsML."""
    root = secure_xml(data)
    if local(root.tag) not in ("NewsML", "NewsItem"):
        raise DeliveryError("not_newsml", f"the root element is <{local(root.tag)}>, not <NewsML>")
    items = [root] if local(root.tag) == "NewsItem" else [e for e in root.iter() if local(e.tag) == "NewsItem"]
    if not items:
        raise DeliveryError("no_items", "a NewsML document without any NewsItem")
    if len(items) > max_items:
        raise DeliveryError("too_many_items", f"{len(items)} NewsItems in one document, more than {max_items}")
    return [newsml1_item(el) for el in items]


def _first(el, name: str):
    return next((e for e in el.iter() if local(e.tag) == name), None)


def _all(el, name: str) -> list:
    return [e for e in el.iter() if local(e.tag) == name]


def _kid(el, name: str):
    return next((c for c in el if local(c.tag) == name), None) if el is not None else None


def _text(el):
    return ws(" ".join(tree_paragraphs(el))) or None if el is not None else None


def _formal(el):
    return ws(el.get("FormalName")) or None if el is not None else None


def newsml1_item(item) -> AgencyItem:
    """One NewsItem element."""
    provider_id = _text(_first(item, "ProviderId"))
    provider = _formal(_first(_first(item, "Provider"), "Party")) if _first(item, "Provider") is not None else None
    credit_line, copyright_line = _text(_first(item, "CreditLine")), _text(_first(item, "CopyrightLine"))
    byline = _text(_first(item, "ByLine"))
    credit = [(k, v) for k, v in (("ProviderId", provider_id), ("Provider", provider), ("CreditLine", credit_line),
                                  ("CopyrightLine", copyright_line), ("ByLine", byline)) if v]
    heads = [_text(h) for h in _all(item, "HeadLine")]
    language = _first(item, "Language")
    revision = _first(item, "RevisionId")
    return AgencyItem(
        format="newsml",
        uri=_text(_first(item, "PublicIdentifier")),
        item_type=_media_type(item),
        version=_text(revision),
        headline=next((h for h in heads if h), None),
        paragraphs=tuple(_body(item)),
        byline=byline,
        located=_text(_first(item, "DateLine")),
        language=_formal(language) or item.get("{http://www.w3.org/XML/1998/namespace}lang"),
        first_created=_basic(_text(_first(item, "FirstCreated"))),
        version_created=_basic(_text(_first(item, "ThisRevisionCreated"))),
        providers=tuple(dict.fromkeys(p for p in (provider, credit_line, copyright_line) if p)),
        credit=tuple(credit),
    )


def _basic(value):
    """NewsML 1.2's ISO basic instants (20160116T125900+0000) as extended ones."""
    if not value or len(value) < 15 or value[8] != "T":
        return value
    date, time = value[:8], value[9:]
    zone = ""
    for sign in ("+", "-", "Z"):
        if sign in time:
            time, zone = time.split(sign, 1)[0], sign + time.split(sign, 1)[1]
            break
    if len(zone) == 5:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{date[:4]}-{date[4:6]}-{date[6:]}T{time[:2]}:{time[2:4]}:{time[4:6]}{zone}"


def _media_type(item):
    main = [c for c in _all(item, "NewsComponent")
            if (_formal(_kid(c, "Role")) or "").lower() == "main"]
    for component in main:
        for media in _all(component, "MediaType"):
            kind = _MEDIA_TYPES.get((_formal(media) or "").lower())
            if kind:
                return kind
    return "text"


def _body(item) -> list:
    nitf = _first(item, "body.content")
    if nitf is not None and tree_paragraphs(nitf):
        return tree_paragraphs(nitf)
    components = _all(item, "NewsComponent")
    for component in components:
        if "body" in (_formal(_kid(component, "Role")) or "").lower():
            for data in _all(component, "DataContent"):
                if tree_paragraphs(data):
                    return tree_paragraphs(data)
    for component in components:
        if (_formal(_kid(component, "Role")) or "").lower() in _NOT_BODY_ROLES:
            continue
        for content in [c for c in component if local(c.tag) == "ContentItem"]:
            mime = _kid(content, "MimeType")
            if mime is not None and "css" in (_formal(mime) or "").lower():
                continue
            data = _kid(content, "DataContent")
            if data is not None and tree_paragraphs(data):
                return tree_paragraphs(data)
    return []
