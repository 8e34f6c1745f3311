"""Deduplicate: canonical-URL dedup, exact copies, near-duplicate stories and stable ids on rerun."""
import apache_beam as beam
import numpy as np
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipeline.settings import Settings
from schemas.types import Article, Draft
from transforms.clean_articles import content_hash
from transforms.deduplicate import Deduplicate, Member, stored_member, story_agency
from transforms.minhash import MinHasher, band_keys, shingle_hashes, similarity

WIRE = ("The central bank raised its policy rate by a quarter point on Tuesday, citing stubborn food prices "
        "and a weaker currency. Governor Meera Rao told reporters the committee voted five to one for the move. "
        "Economists had expected the bank to wait until the monsoon outlook was clearer. The decision pushed "
        "bond yields to a three month high and lifted the rupee against the dollar in late trade. "
        "Exporters said the stronger currency would squeeze margins that were already thin this year.")
OTHER = ("Flooding closed three highways in the northern hills after two days of heavy rain, officials said, "
         "and rescue teams moved hundreds of families to schools on higher ground. The weather office warned "
         "of more rain through the weekend and asked fishermen to stay ashore. Power lines were down in six "
         "villages and repair crews could not reach them before the water receded from the valley roads.")


def draft(aid, body, published, agency=None):
    return Draft(article=Article(article_id=aid, url=f"http://{aid}.example/a", body=body, published_at=published,
                                 agency=agency, content_hash=content_hash(body)))


def test_minhash_estimates_jaccard_and_containment():
    hasher = MinHasher(256)
    a = shingle_hashes(WIRE, 4)
    b = shingle_hashes(WIRE.split(". ")[0] + ". " + WIRE.split(". ")[1], 4)
    sig_a, sig_b = hasher.signature(a), hasher.signature(b)
    jaccard, containment = similarity(sig_a, sig_b, a.size, b.size)
    true_j = len(set(a) & set(b)) / len(set(a) | set(b))
    assert abs(jaccard - true_j) < 0.1
    assert containment > 0.8  # an excerpt is contained in the full text
    assert band_keys(sig_a, 32) == band_keys(hasher.signature(a), 32)  # stable


def test_copies_share_the_earliest_story_id_and_strangers_do_not():
    copy = WIRE.replace("Tuesday", "Tuesday (local time)").replace("told reporters", "has told reporters")
    excerpt = " ".join(WIRE.split(". ")[:3])
    drafts = [draft("b", copy, "2026-03-05T10:40:00+00:00"),
              draft("a", WIRE, "2026-03-05T10:00:00+00:00", agency="PTI"),
              draft("c", excerpt, "2026-03-05T12:00:00+00:00"),
              draft("d", OTHER, "2026-03-05T10:05:00+00:00"),
              draft("a", WIRE, "2026-03-05T10:00:00+00:00", agency="PTI")]  # same canonical URL twice
    with TestPipeline() as p:
        out = (p | beam.Create(drafts) | Deduplicate(Settings())
               | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of, a.story_agency)))
        assert_that(out, equal_to([("a", "a", None, "PTI"), ("b", "a", "a", "PTI"), ("c", "a", "a", "PTI"),
                                   ("d", "d", None, None)]))


def test_copies_beyond_the_horizon_start_a_new_story():
    settings = Settings()
    late = draft("z", WIRE, "2026-03-09T10:00:00+00:00")
    with TestPipeline() as p:
        out = (p | beam.Create([draft("a", WIRE, "2026-03-05T10:00:00+00:00"), late]) | Deduplicate(settings)
               | beam.Map(lambda a: (a.article_id, a.story_id)))
        assert_that(out, equal_to([("a", "a"), ("z", "z")]))


def test_rerun_keeps_the_stored_story_id_and_skips_stored_articles():
    settings = Settings()
    hasher = MinHasher(settings.dedup.num_perm)
    stored = stored_member({"article_id": "old", "body": WIRE, "published_at": "2026-03-05T09:00:00+00:00",
                            "agency": "IANS", "story_id": "old", "story_agency": "IANS"}, hasher, settings.dedup)
    with TestPipeline() as p:
        ids = p | "Ids" >> beam.Create([frozenset({"old", "gone"})])
        members = p | "Members" >> beam.Create([stored])
        out = (p | beam.Create([draft("new", WIRE, "2026-03-05T11:00:00+00:00"),
                                draft("gone", OTHER, "2026-03-05T11:00:00+00:00")])
               | Deduplicate(settings, ids, members)
               | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of, a.story_agency)))
        assert_that(out, equal_to([("new", "old", "old", "IANS")]))


def test_story_agency_prefers_a_named_wire_over_generic_agencies():
    def m(aid, agency, ts):
        return Member(aid, ts, np.zeros(4, dtype=np.uint32).tobytes(), 1, agency, None, None)
    assert story_agency([m("a", "Agencies", 1), m("b", "PTI", 2), m("c", None, 3)]) == "PTI"
    assert story_agency([m("a", "Agencies", 1)]) == "Agencies"
    assert story_agency([m("a", None, 1)]) is None
