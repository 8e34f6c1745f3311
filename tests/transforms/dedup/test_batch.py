"""Deduplicate: canonical-URL dedup, exact copies, near-duplicate stories and stable ids on rerun."""
import apache_beam as beam
import numpy as np
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.settings import Settings
from schemas.types import Article, Draft
from transforms.clean.stage import content_hash
from transforms.dedup.minhash import MinHasher, band_ints, shingle_hashes, similarity
from transforms.dedup.stage import DeduplicateBatch
from transforms.dedup.stories import Member, sign, story_agency
from transforms.warehouse import duckdb_store
from transforms.warehouse.duckdb_lookup import DuckDBLookup
from transforms.warehouse.upgrade import upgrade_duckdb

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
    assert band_ints(sig_a, 32) == band_ints(hasher.signature(a), 32)  # stable


def test_copies_share_the_earliest_story_id_and_strangers_do_not():
    copy = WIRE.replace("Tuesday", "Tuesday (local time)").replace("told reporters", "has told reporters")
    excerpt = " ".join(WIRE.split(". ")[:3])
    drafts = [draft("b", copy, "2026-03-05T10:40:00+00:00"),
              draft("a", WIRE, "2026-03-05T10:00:00+00:00", agency="PTI"),
              draft("c", excerpt, "2026-03-05T12:00:00+00:00"),
              draft("d", OTHER, "2026-03-05T10:05:00+00:00"),
              draft("a", WIRE, "2026-03-05T10:00:00+00:00", agency="PTI")]  # same canonical URL twice
    with TestPipeline() as p:
        out = ((p | beam.Create(drafts) | DeduplicateBatch(Settings()))["articles"]
               | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of, a.story_agency)))
        assert_that(out, equal_to([("a", "a", None, "PTI"), ("b", "a", "a", "PTI"), ("c", "a", "a", "PTI"),
                                   ("d", "d", None, None)]))


def test_copies_beyond_the_horizon_start_a_new_story():
    settings = Settings()
    late = draft("z", WIRE, "2026-03-09T10:00:00+00:00")
    with TestPipeline() as p:
        out = ((p | beam.Create([draft("a", WIRE, "2026-03-05T10:00:00+00:00"), late]) | DeduplicateBatch(settings))
               ["articles"] | beam.Map(lambda a: (a.article_id, a.story_id)))
        assert_that(out, equal_to([("a", "a"), ("z", "z")]))


def _stored_warehouse(path, settings, rows):
    """A DuckDB warehouse holding these articles, upgraded in place: story_index signed from the bodies."""
    con = duckdb_store.connect(path)
    try:
        duckdb_store.ensure_schema(con)
        duckdb_store.write_batch(con, {"articles": rows})
    finally:
        con.close()
    return upgrade_duckdb(str(path), settings, say=lambda line: None)


def test_rerun_keeps_the_stored_story_id_and_skips_stored_articles(tmp_path):
    settings = Settings()
    warehouse = tmp_path / "w.duckdb"
    old = draft("old", WIRE, "2026-03-05T09:00:00+00:00", agency="IANS").article._replace(
        story_id="old", story_agency="IANS")
    gone = draft("gone", OTHER, "2026-03-05T08:00:00+00:00").article._replace(story_id="gone")
    assert _stored_warehouse(warehouse, settings, [old, gone])["signed"] == 2
    lookup = DuckDBLookup(str(warehouse), settings)
    with TestPipeline() as p:
        out = (p | beam.Create([draft("new", WIRE, "2026-03-05T11:00:00+00:00"),
                                draft("gone", OTHER, "2026-03-05T11:00:00+00:00")])
               | DeduplicateBatch(settings, lookup))
        rows = out["articles"] | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of, a.story_agency))
        assert_that(rows, equal_to([("new", "old", "old", "IANS")]))
        index = out["story_index"] | "Index" >> beam.Map(lambda r: (r.article_id, r.story_id, r.story_agency,
                                                                     len(r.bands), len(r.signature)))
        assert_that(index, equal_to([("new", "old", "IANS", 32, 512)]), label="index rows")


def test_a_copy_beyond_the_horizon_of_every_stored_article_starts_its_own_story(tmp_path):
    settings = Settings()
    warehouse = tmp_path / "w.duckdb"
    old = draft("old", WIRE, "2026-03-01T09:00:00+00:00").article._replace(story_id="old")
    _stored_warehouse(warehouse, settings, [old])
    lookup = DuckDBLookup(str(warehouse), settings)
    # The look-up reads only one horizon around the new article: the old copy is not even a candidate.
    member = sign(MinHasher(settings.dedup.num_perm), settings.dedup, "new", WIRE, 1772960400.0, None)
    assert lookup.story_candidates(band_ints(member.signature, 32), member.published_ts - 72 * 3600,
                                   member.published_ts + 72 * 3600) == []
    with TestPipeline() as p:
        out = (p | beam.Create([draft("new", WIRE, "2026-03-08T09:00:00+00:00")]) | DeduplicateBatch(settings, lookup))
        assert_that(out["articles"] | beam.Map(lambda a: (a.article_id, a.story_id)), equal_to([("new", "new")]))


def test_story_agency_prefers_a_named_wire_over_generic_agencies():
    def m(aid, agency, ts):
        return Member(aid, ts, np.zeros(4, dtype=np.uint32).tobytes(), 1, agency, None, None)
    assert story_agency([m("a", "Agencies", 1), m("b", "PTI", 2), m("c", None, 3)]) == "PTI"
    assert story_agency([m("a", "Agencies", 1)]) == "Agencies"
    assert story_agency([m("a", None, 1)]) is None
