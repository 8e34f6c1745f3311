"""IPTC ninjs (1.x flat, 2.x lowercase arrays, 3.x camelCase arrays) to AgencyItems (no Beam).

A delivery is one item, a JSON array of items, or an object holding them in `items` or `data`
(AP Media API style, where each element may wrap the item in `item`). Only what wiredesk stores is
read; the schema is not validated, but JSON that does not parse, an item that is not an object
and an item without text are refused with a reason.
"""
from __future__ import annotations

import json

from transforms.deliveries.items import (
    AgencyItem,
    DeliveryError,
    html_paragraphs,
    local,
    secure_xml,
    text_paragraphs,
    tree_paragraphs,
    ws,
)

CREDIT_KEYS = ("copyrightholder", "copyrightHolder", "copyrightnotice", "copyrightNotice", "by", "byline",
               "usageterms", "usageTerms")
_BODY_KEYS_1X = ("body_text", "body_main", "body_html", "body_xhtml", "body_richtext", "body_xml")


def parse_ninjs(data: bytes, max_items: int = 1000) -> list:
    """The items of a ninjs delivery; raises DeliveryError when it is not JSON or holds no ninjs object."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise DeliveryError("not_json", f"not UTF-8 text: {err}") from None
    except ValueError as err:
        raise DeliveryError("not_json", f"not valid JSON: {err}") from None
    raw = _raw_items(doc)
    if len(raw) > max_items:
        raise DeliveryError("too_many_items", f"{len(raw)} items in one delivery, more than {max_items}")
    return [ninjs_item(obj) for obj in raw]


def _raw_items(doc) -> list:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("items", "data"):
            if isinstance(doc.get(key), list):
                return [el.get("item", el) if isinstance(el, dict) and isinstance(el.get("item"), dict) else el
                        for el in doc[key]]
            if isinstance(doc.get(key), dict) and isinstance(doc[key].get("items"), list):
                return _raw_items(doc[key])
        return [doc]
    raise DeliveryError("not_ninjs", f"a JSON {type(doc).__name__}, not a ninjs object or a list of them")


def _get(obj: dict, *names):
    for name in names:
        value = obj.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def ninjs_item(obj) -> AgencyItem:
    """One ninjs object of any generation; a problem is recorded on the item, never raised."""
    if not isinstance(obj, dict):
        return AgencyItem("ninjs", None, problem=("not_ninjs", f"an item that is a JSON {type(obj).__name__}"))
    uri = obj.get("uri") if isinstance(obj.get("uri"), str) else None
    problem = None if uri else ("invalid_item", "the ninjs object has no uri")
    return AgencyItem(
        format="ninjs",
        uri=uri,
        item_type=_text(obj.get("type")),
        version=_text(obj.get("version")),
        headline=_headline(obj),
        paragraphs=tuple(_body(obj)),
        description=_description(obj),
        byline=_text(_get(obj, "by", "byline")),
        located=_text(obj.get("located")),
        language=_text(obj.get("language")),
        first_created=_text(_get(obj, "firstcreated", "firstCreated")),
        version_created=_text(_get(obj, "versioncreated", "versionCreated")),
        keywords=tuple(_keywords(obj)),
        providers=tuple(_providers(obj)),
        credit=tuple(_credit(obj)),
        problem=problem,
    )


def _text(value):
    return ws(value) or None if isinstance(value, str) else (str(value) if isinstance(value, (int, float)) else None)


def _headline(obj: dict):
    heads = obj.get("headlines")
    if isinstance(heads, list) and heads:
        dicts = [h for h in heads if isinstance(h, dict)]
        mains = [h for h in dicts if h.get("role") == "main"]
        chosen = (mains or dicts or [{}])[0]
        return _text(chosen.get("value"))
    for key in ["headline"] + sorted(k for k in obj if k.startswith("headline_")):
        if isinstance(obj.get(key), str):
            return _text(obj[key])
    return _text(obj.get("title"))


def _content_type(part: dict) -> str:
    return (part.get("contenttype") or part.get("contentType") or "").lower()


def _body(obj: dict) -> list:
    bodies = obj.get("bodies")
    if isinstance(bodies, list) and bodies:
        parts = [b for b in bodies if isinstance(b, dict) and isinstance(b.get("value"), str)]
        plain = [b for b in parts if "text/plain" in _content_type(b)]
        if not parts:
            return []
        part = (plain or parts)[0]
        return _markup_paragraphs(part["value"], _content_type(part))
    for key in _BODY_KEYS_1X:
        if isinstance(obj.get(key), str):
            kind = "text/plain" if key in ("body_text", "body_main") else ("nitf" if key == "body_xml" else "text/html")
            return _markup_paragraphs(obj[key], kind)
    return []


def _markup_paragraphs(value: str, content_type: str) -> list:
    if "text/plain" in content_type:
        return text_paragraphs(value)
    if "nitf" in content_type:
        try:
            root = secure_xml(value.encode("utf-8"))
        except DeliveryError:
            return html_paragraphs(value)
        content = next((e for e in root.iter() if local(e.tag) == "body.content"), None)
        return tree_paragraphs(content if content is not None else root)
    return html_paragraphs(value)


def _description(obj: dict):
    descs = obj.get("descriptions")
    if isinstance(descs, list) and descs and isinstance(descs[0], dict):
        value = descs[0].get("value")
        if isinstance(value, str):
            return " ".join(html_paragraphs(value) if "html" in _content_type(descs[0]) else [ws(value)]) or None
    return _text(_get(obj, "description_text", "description_usage"))


def _names(values) -> list:
    out = []
    for value in values if isinstance(values, list) else []:
        name = value.get("name") if isinstance(value, dict) else value
        if isinstance(name, str) and ws(name):
            out.append(ws(name))
    return out


def _keywords(obj: dict) -> list:
    return _names(_get(obj, "subjects", "subject")) + _names(_get(obj, "genres"))


def _providers(obj: dict) -> list:
    """Who delivers the item, strongest first: copyright holder, copyright notice, info sources."""
    out = [v for v in (_text(_get(obj, "copyrightholder", "copyrightHolder")),
                       _text(_get(obj, "copyrightnotice", "copyrightNotice"))) if v]
    out += _names(_get(obj, "infosources", "infoSources", "infosource"))
    return list(dict.fromkeys(out))


def _credit(obj: dict) -> list:
    """(field, value) pairs as written: the copyright, byline and usage fields, and info source names."""
    out = [(key, obj[key]) for key in CREDIT_KEYS if obj.get(key)]
    sources = _get(obj, "infosources", "infoSources", "infosource")
    if sources:
        out.append(("infosources", tuple(s.get("name") or s.get("uri") for s in sources if isinstance(s, dict))
                    if isinstance(sources, list) else sources))
    return out

