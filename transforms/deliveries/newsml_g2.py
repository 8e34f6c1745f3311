"""IPTC NewsML-G2 (newsItem, packageItem, newsMessage) to AgencyItems (no Beam).

Elements are matched by local name, so any NewsML-G2 version (and a stray namespace) reads the same.
A newsMessage gives every item of its itemSet. A packageItem refers to other items (itemRef) and
carries no text of its own, and a knowledgeItem holds concepts, not a story: both are kept as items
with a problem, so they become dead letters that say why rather than silent skips.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from transforms.deliveries.items import AgencyItem, DeliveryError, local, secure_xml, tree_paragraphs, ws

ITEM_TAGS = ("newsItem", "packageItem", "knowledgeItem", "conceptItem", "planningItem", "catalogItem")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XHTML = "http://www.w3.org/1999/xhtml"


def parse_newsml_g2(data: bytes, max_items: int = 1000) -> list:
    """The items of a NewsML-G2 document; raises DeliveryError when it is not XML or not NewsML-G2."""
    root = secure_xml(data)
    name = local(root.tag)
    if name == "newsMessage":
        items = [el for item_set in _kids(root, "itemSet") for el in item_set if local(el.tag) in ITEM_TAGS]
    elif name in ITEM_TAGS or name == "contentSet":
        items = [root]
    else:
        raise DeliveryError("not_newsml_g2", f"the root element is <{name}>, not a NewsML-G2 item or newsMessage")
    if len(items) > max_items:
        raise DeliveryError("too_many_items", f"{len(items)} items in one newsMessage, more than {max_items}")
    return [g2_item(el) for el in items]


def _kids(el, name: str) -> list:
    return [c for c in el if local(c.tag) == name]


def _kid(el, name: str):
    if el is None:
        return None
    return next((c for c in el if local(c.tag) == name), None)


def _text(el):
    if el is None:
        return None
    return ws(" ".join(tree_paragraphs(el))) or None


def qcl(el) -> str:
    """qcode / literal / uri of an element plus its <name>, as 'a | b'."""
    if el is None:
        return ""
    parts = [el.get(a) for a in ("qcode", "literal", "uri") if el.get(a)]
    name = _text(_kid(el, "name"))
    return " | ".join(parts + ([name] if name else []))


def _party_name(el):
    """A party's readable name: <name>, else literal, else the code of its qcode (nprov:dpa -> dpa)."""
    if el is None:
        return None
    name = _text(_kid(el, "name"))
    if name:
        return name
    if el.get("literal"):
        return ws(el.get("literal"))
    if el.get("qcode"):
        return ws(el.get("qcode").rsplit(":", 1)[-1]) or None
    return urlsplit(el.get("uri") or "").hostname or None


def g2_item(el) -> AgencyItem:
    """One NewsML-G2 item element; a problem is recorded on the item, never raised."""
    kind = local(el.tag)
    meta, content = _kid(el, "itemMeta"), _kid(el, "contentMeta")
    rights = _kid(el, "rightsInfo")
    provider, holder = _kid(meta, "provider"), _kid(rights, "copyrightHolder")
    credit_line = _text(_kid(content, "creditline"))
    providers = list(dict.fromkeys(p for p in (_party_name(provider), credit_line, _party_name(holder)) if p))
    credit = [(k, v) for k, v in (("provider", qcl(provider)), ("copyrightHolder", qcl(holder)),
                                  ("creditline", credit_line or ""), ("by", _text(_kid(content, "by")) or "")) if v]
    paragraphs = _body(el)
    return AgencyItem(
        format="newsml-g2",
        uri=el.get("guid"),
        item_type=_item_class(meta) or kind,
        version=el.get("version"),
        headline=_headline(el, content, meta),
        paragraphs=tuple(paragraphs),
        description=_text(_kid(content, "description")),
        byline=_text(_kid(content, "by")),
        located=_party_name(_kid(content, "located")) or _text(_kid(content, "dateline")),
        language=el.get(XML_LANG) or (_kid(content, "language").get("tag") if _kid(content, "language") is not None
                                      else None),
        first_created=_text(_kid(meta, "firstCreated")) or _text(_kid(content, "contentCreated")),
        version_created=_text(_kid(meta, "versionCreated")),
        keywords=tuple(_keywords(content)),
        providers=tuple(providers),
        credit=tuple(credit),
        problem=_problem(el, kind),
    )


def _item_class(meta):
    """ninat:text -> text, ninat:picture -> picture; None for packages and other items."""
    item_class = _kid(meta, "itemClass")
    code = (item_class.get("qcode") or "") if item_class is not None else ""
    return code.rsplit(":", 1)[-1].lower() if code.startswith("ninat:") else None


def _problem(el, kind: str):
    if kind == "packageItem":
        refs = sum(1 for e in el.iter() if local(e.tag) == "itemRef")
        return ("no_text", f"a packageItem only refers to other items ({refs} itemRef); it carries no text of its "
                           f"own, and the items it lists arrive as items of their own")
    if kind in ("knowledgeItem", "conceptItem", "catalogItem", "planningItem"):
        return ("not_news", f"a {kind} describes concepts or plans, not a news story")
    if kind == "contentSet":
        return ("invalid_item", "a bare <contentSet> with no item around it: no guid, provider or dates")
    return None


def _headline(el, content, meta):
    heads = _kids(content, "headline") if content is not None else []
    if heads:
        return _text(heads[0])
    content_set = el if local(el.tag) == "contentSet" else _kid(el, "contentSet")
    if content_set is not None:
        hl1 = next((e for e in content_set.iter() if local(e.tag) == "hl1"), None)
        if hl1 is not None:
            return _text(hl1)
    return _text(_kid(meta, "title"))


def _body(el) -> list:
    content_set = el if local(el.tag) == "contentSet" else _kid(el, "contentSet")
    if content_set is None:
        return []
    for part in content_set:
        name = local(part.tag)
        if name == "inlineXML":
            nitf = next((e for e in part.iter() if local(e.tag) == "body.content"), None)
            if nitf is not None:
                return tree_paragraphs(nitf)
            body = next((e for e in part.iter() if local(e.tag) == "body" and e.tag.startswith("{" + XHTML)), None)
            return tree_paragraphs(body if body is not None else part)
        if name == "inlineData":
            return [ws(line) for line in (part.text or "").splitlines() if ws(line)]
    return []


def _keywords(content) -> list:
    if content is None:
        return []
    out = [_text(k) for k in _kids(content, "keyword")]
    out += [_party_name(s) for s in _kids(content, "subject") if _kid(s, "name") is not None]
    return [k for k in out if k]
