"""Every ninjs, NewsML-G2 and NewsML 1.2 file of the corpus through its parser, against manifest.csv."""
import json

import pytest

from schemas.settings import Settings
from tests.support.sources import manifest_rows, read
from transforms.deliveries.delivery import parse_delivery, read_delivery
from transforms.deliveries.items import DeliveryError, to_draft

FORMATS = {"ninjs/": "ninjs", "newsml-g2/": "newsml-g2", "newsml-1.2/": "newsml"}
ROWS = manifest_rows(*FORMATS)
# The files that cannot be read at all, and why.
UNREADABLE = {"ninjs/invalid/1.0-should_fail-009_body_text_with_cr.json": "not_json",
              "newsml-g2/newsmlvalidator/NewsItem_with_NITF.xml": "not_xml"}
# Items read but refused as articles, and why (the schema's should_fail cases among them).
REFUSED = {
    "ninjs/invalid/2.1-should_fail-001_bad_association.json": "no_text",  # its body is "..."
    "ninjs/invalid/3.0-should_fail-004_invalid_truncated_date.json": "no_text",  # an event, no body
    "ninjs/1.x/ninjsExSimplePhoto1.json": "not_text",
    "ninjs/2.x/ap_image.json": "not_text",
    "ninjs/2.x/SIPA_image_2.json": "not_text",
    "ninjs/2.x/ntb_text.json": "no_text",
    "ninjs/3.x/ntb_text.json": "no_text",
    "newsml-g2/iptc/LISTING_1_A_NewsML-G2_News_Item.xml": "no_text",  # remoteContent only
    "newsml-g2/iptc/LISTING_3_Photo_in_NewsML-G2.xml": "not_text",
    "newsml-g2/iptc/LISTING_6_Simple_NewsML-G2_Package.xml": "no_text",  # a packageItem
    "newsml-g2/iptc/LISTING_15_Two_Related_Events_in_a_Knowledge_Item.xml": "not_news",
    "newsml-g2/iptc/LISTING_24_News_Message_conveying_a_complete_News_Package.xml": "no_text",
    "newsml-g2/iptc/LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml": "invalid_item",
    "newsml-g2/iptc/ap_metadata_example.xml": "not_text",  # a video
    "newsml-1.2/gextech-iptc-newsml/AFP_751HA.xml": "not_text",  # photos
    "newsml-1.2/gextech-iptc-newsml/DV2209430.xml": "not_text",
}


def _format(row) -> str:
    return next(fmt for prefix, fmt in FORMATS.items() if row["path"].startswith(prefix))


def _primary(items, fmt):
    """The item manifest.csv describes: the first text item with a body (NewsML-G2), else the first."""
    if fmt == "newsml-g2":
        return next((i for i in items if i.paragraphs and i.item_type not in ("packageItem",)), items[0])
    return items[0]


def _credit(item, fmt):
    if fmt == "ninjs":
        return {k: list(v) if isinstance(v, tuple) else v for k, v in item.credit}
    return "; ".join(f"{k}={v}" for k, v in item.credit)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["path"])
def test_each_delivery_gives_the_manifests_item_or_a_reason(row):
    fmt, data = _format(row), read(row)
    if row["path"] in UNREADABLE:
        with pytest.raises(DeliveryError) as err:
            parse_delivery(data, fmt)
        assert err.value.reason == UNREADABLE[row["path"]] and err.value.message
        return
    items = parse_delivery(data, fmt)
    if row["count"]:
        assert len(items) == int(row["count"])
    item = _primary(items, fmt)
    if row["kind"] != "ninjs_invalid":
        assert (item.headline or "") == row["headline"]
        expected_credit = json.loads(row["credit"]) if fmt == "ninjs" and row["credit"] else row["credit"]
        assert _credit(item, fmt) == (expected_credit or ({} if fmt == "ninjs" else ""))
    assert item.body[:80] == row["body_first80"]
    if row["path"] in REFUSED:
        with pytest.raises(DeliveryError) as err:
            to_draft(item, "http://wire.example/api", "2026-03-05T10:00:00+00:00", "test")
        assert err.value.reason == REFUSED[row["path"]]
        return
    draft = to_draft(item, "http://wire.example/api", "2026-03-05T10:00:00+00:00", "test")
    article = draft.article
    assert article.source_kind == fmt and article.title == (item.headline or None)
    assert " ".join(draft.raw_lines)[:80] == row["body_first80"]
    assert article.published_at_source == "item" and article.published_at.endswith("+00:00")
    assert article.article_id and article.outlet


def test_a_delivery_is_one_item_an_array_or_an_items_or_data_object():
    one = json.loads(read(next(r for r in ROWS if r["path"] == "ninjs/2.x/dpa_text.json")))
    other = dict(one, uri="urn:newsml:dpa.com:20090101:190510-99-000001")
    both = [one["uri"], other["uri"]]
    shapes = [(one, [one["uri"]]), ([one, other], both), ({"items": [one, other]}, both),
              ({"data": [{"item": one}, {"item": other}]}, both), ({"data": {"items": [one]}}, [one["uri"]])]
    for doc, uris in shapes:
        assert [i.uri for i in parse_delivery(json.dumps(doc).encode(), "ninjs")] == uris


def test_every_item_is_an_entry_and_every_refusal_an_entry_dead_letter():
    rows = {r["path"]: r for r in ROWS}
    message = read(rows["newsml-g2/iptc/LISTING_24_News_Message_conveying_a_complete_News_Package.xml"])
    counts: dict = {}
    drafts, dead = read_delivery(message, "newsml-g2", "/drop/reuters", "2026-03-05T10:00:00+00:00", Settings(),
                                 counts, location="/drop/reuters/pkg.xml")
    assert drafts == [] and len(dead) == 5
    assert counts["entries"] == 5 and counts["entries_invalid"] == 5
    counts = {}
    drafts, dead = read_delivery(b"{not json", "ninjs", "/drop/ap", "2026-03-05T10:00:00+00:00", Settings(), counts,
                                 location="/drop/ap/x.json")
    assert drafts == [] and [(d.error_class, d.url) for d in dead] == [("not_json", "/drop/ap/x.json")]
    assert "entries" not in counts  # nothing was read, so no entry to account for


def test_an_item_dated_ahead_of_its_delivery_is_published_when_received():
    item = json.loads(read(next(r for r in ROWS if r["path"] == "ninjs/2.x/dpa_text.json")))
    item["versioncreated"] = "2031-01-01T00:00:00Z"  # embargoed until then
    [parsed] = parse_delivery(json.dumps(item).encode(), "ninjs")
    article = to_draft(parsed, "http://wire.example/api", "2026-03-05T10:00:00+00:00", "test").article
    assert (article.published_at, article.published_at_source) == ("2026-03-05T10:00:00+00:00", "item")
