"""Declarations of every row type wiredesk moves or stores; everything else derives from here."""
from __future__ import annotations

import typing

from schemas.declare import Field, RowType, beam_type, record

F = Field

EVIDENCE = RowType("Evidence", "One piece of evidence for an agency credit.", (
    F("agency", "string", "Canonical agency name this evidence points to."),
    F("kind", "string", "provider | credit_line | dateline | byline | structured_author | disclaimer | copyright."),
    F("text", "string", "The exact text on the page that carries the credit."),
))

FEED_ENTRY = RowType("FeedEntry", "One item of an RSS, Atom or JSON feed, as the feed states it.", (
    F("entry_id", "string", "Stable hash of the feed URL and the entry's id or link.", required=True),
    F("feed_url", "string", "URL of the feed the entry was read from.", required=True),
    F("feed_name", "string", "Outlet name from the feeds file or the feed title."),
    F("agency_hint", "string", "Agency the feeds file says this feed carries, if any."),
    F("url", "string", "The entry link exactly as it appears in the feed."),
    F("guid", "string", "The entry's guid / id as given by the feed."),
    F("title", "string", "Entry title from the feed."),
    F("summary", "string", "Entry summary or description from the feed, as plain text."),
    F("published_at", "timestamp", "Publication time stated by the feed, UTC."),
    F("authors", "string", "Author names stated by the feed.", repeated=True),
    F("categories", "string", "Categories or tags stated by the feed.", repeated=True),
    F("polled_at", "timestamp", "When the feed was fetched, UTC."),
    F("source_kind", "string", "What listed the entry: feed | sitemap."),
))

PAGE = RowType("Page", "A fetched article page with the entry that pointed to it.", (
    record("entry", "The feed entry that linked to this page.", FEED_ENTRY),
    F("final_url", "string", "URL after redirects."),
    F("status", "int", "HTTP status of the final response."),
    F("content_type", "string", "Content-Type header of the final response."),
    F("charset", "string", "Charset from the Content-Type header, if any."),
    F("body", "bytes", "Decoded (decompressed) response body."),
    F("fetched_at", "timestamp", "When the response was received, UTC."),
    F("attempts", "int", "How many requests the fetch took."),
))

ARTICLE = RowType("Article", "One distinct article (canonical URL) with its text, tags and story.", (
    F("article_id", "string", "Stable hash of the canonical URL; primary key.", required=True),
    F("url", "string", "The link exactly as it appears in the feed."),
    F("canonical_url", "string", "Canonical URL: rel=canonical or final URL, tracking and AMP markers removed."),
    F("feed_url", "string", "URL of the feed that listed the article."),
    F("outlet", "string", "Registered domain of the outlet that published the page."),
    F("title", "string", "Headline as shown on the page."),
    F("description", "string", "Standfirst or meta description."),
    F("authors", "string", "Author names (people or organisations) credited on the page.", repeated=True),
    F("section", "string", "Section or category of the page, e.g. US or Business."),
    F("tags", "string", "Keywords and tags of the page.", repeated=True),
    F("language", "string", "ISO 639-1 language code of the body."),
    F("body", "string", "Clean article text, paragraphs separated by blank lines."),
    F("word_count", "int", "Number of words in body."),
    F("published_at", "timestamp", "Publication time of this copy, UTC, never in the future."),
    F("published_at_source", "string", "Where published_at came from: feed | sitemap | item | jsonld | meta | url | text | fetch."),
    F("fetched_at", "timestamp", "When the page was fetched, UTC."),
    F("ingested_at", "timestamp", "When the row was produced by the pipeline, UTC."),
    F("agency", "string", "Wire agency this page credits (canonical name), or NULL for staff copy."),
    record("agency_evidence", "Every piece of evidence for the agency credit.", EVIDENCE, repeated=True),
    F("story_agency", "string", "Agency of the story cluster, taken from its credited copies; NULL for staff stories."),
    F("content_hash", "string", "SHA-256 of the normalised body; equal for exact copies."),
    F("story_id", "string", "Near-duplicate story cluster id: the article_id of the story's earliest copy."),
    F("duplicate_of", "string", "article_id of the story's first copy; NULL for that first copy itself."),
    F("pipeline_version", "string", "Version of wiredesk that produced the row."),
    F("is_accessible_for_free", "bool",
      "schema.org isAccessibleForFree of the page: false when paywalled (wholly or a hasPart); NULL if undeclared."),
    F("paywall_evidence", "string",
      "The declaration behind is_accessible_for_free as written, e.g. jsonld:NewsArticle.isAccessibleForFree=false."),
    F("truncated", "bool", "True when the body is evidently a teaser of a longer article."),
    F("truncated_reason", "string",
      "Why the body counts as a teaser: word_count | subscribe_prompt | paywalled_short, with the figures."),
    F("source_kind", "string", "What the article came from: feed | sitemap | ninjs | newsml-g2 | newsml."),
))

DEAD_LETTER = RowType("DeadLetter", "A feed, entry or page that failed a stage, and why.", (
    F("dead_letter_id", "string", "Stable hash of stage, feed, url and error class; primary key.", required=True),
    F("stage", "string", "Stage that failed: read_feeds | fetch | extract | clean | tag | dedup | write.", required=True),
    F("url", "string", "Entry or page URL concerned, if any."),
    F("feed_url", "string", "Feed URL concerned."),
    F("error_class", "string", "Machine-readable reason, e.g. http_404, ssrf_blocked, not_a_feed.", required=True),
    F("message", "string", "Human-readable explanation, capped."),
    F("payload_sha256", "string", "SHA-256 of the full failing payload."),
    F("payload_excerpt", "string", "Start of the failing payload, capped."),
    F("attempt", "int", "How many attempts were made before giving up."),
    F("failed_at", "timestamp", "When the failure was recorded, UTC."),
))

FEED_STATE = RowType("FeedState", "What wiredesk knows about polling one feed.", (
    F("feed_url", "string", "URL of the feed; primary key.", required=True),
    F("etag", "string", "ETag of the last 200 response, for conditional GET."),
    F("last_modified", "string", "Last-Modified of the last 200 response, for conditional GET."),
    F("last_polled_at", "timestamp", "When the feed was last polled, UTC."),
    F("last_status", "int", "HTTP status of the last poll (0 when no response)."),
    F("consecutive_failures", "int", "Failed polls in a row; 0 after a success."),
    F("entries_seen", "int", "Entries the last successful poll returned."),
))

STORY_INDEX = RowType("StoryIndexRow", "What story matching needs of one stored article, computed once when it is written.", (
    F("article_id", "string", "The article's article_id; primary key.", required=True),
    F("story_id", "string", "The story the article belongs to (as in articles.story_id)."),
    F("story_agency", "string", "Agency of the story when the article joined it."),
    F("agency", "string", "Agency the article itself credits."),
    F("published_at", "timestamp", "Event time used for matching: publication time, else fetch time, UTC."),
    F("content_hash", "string", "SHA-256 of the normalised body (exact copies)."),
    F("shingles", "int", "Number of distinct word shingles in the body (for containment)."),
    F("signature", "bytes", "MinHash signature: num_perm little-endian uint32 values."),
    F("bands", "int", "LSH band keys of the signature (band number << 32 | crc32 of the band).", repeated=True),
))

# Warehouse tables: name -> (row type, primary key).
TABLES = {
    "articles": (ARTICLE, "article_id"),
    "dead_letters": (DEAD_LETTER, "dead_letter_id"),
    "feed_state": (FEED_STATE, "feed_url"),
    "story_index": (STORY_INDEX, "article_id"),
}

Evidence = beam_type(EVIDENCE)
FeedEntry = beam_type(FEED_ENTRY)
Page = beam_type(PAGE)
Article = beam_type(ARTICLE)
DeadLetter = beam_type(DEAD_LETTER)
FeedState = beam_type(FEED_STATE)
StoryIndexRow = beam_type(STORY_INDEX)

DRAFT = RowType("Draft", "An article between extraction and deduplication, with the page signals tagging reads.", (
    record("article", "The article as known so far.", ARTICLE),
    F("raw_lines", "string", "Paragraphs of the extracted text before cleaning.", repeated=True),
    F("removed_lines", "string", "Lines that cleaning removed from the body (credits among them).", repeated=True),
    F("page_lines", "string", "Visible text lines of the page outside navigation, captions and footers.",
      repeated=True),
    F("caption_lines", "string", "Text of figure captions and photo credits.", repeated=True),
    F("bylines", "string", "Byline texts and meta author values.", repeated=True),
    F("structured_authors", "string",
      "Author, provider and publisher names from JSON-LD, microdata and provider labels.", repeated=True),
    F("agency_hint", "string", "Agency the feeds file says the feed carries, if any."),
    F("declared_word_count", "int", "The page's JSON-LD wordCount, which the teaser check compares with the body."),
    F("providers", "string", "Provider, credit line and copyright holder an agency delivery states.", repeated=True),
))
Draft = beam_type(DRAFT)


SOURCE_KINDS = ("feed", "sitemap", "site", "endpoint", "folder")
DELIVERY_FORMATS = ("ninjs", "newsml-g2", "newsml")


class FeedSpec(typing.NamedTuple):
    """One source to read, as the user configured it: a feed, a sitemap, a site, an endpoint or a folder."""

    url: str  # the feed, sitemap, site or endpoint URL, or the drop folder's path / gs:// prefix
    name: typing.Optional[str] = None
    agency: typing.Optional[str] = None
    poll_interval_s: typing.Optional[float] = None
    # New fields go last, with defaults: running streams hold pickled 4-field FeedSpecs.
    kind: str = "feed"  # one of SOURCE_KINDS
    format: typing.Optional[str] = None  # endpoint / folder: one of DELIVERY_FORMATS
    # Endpoint request headers as (header name, environment variable) pairs: only the variable's
    # name is configured, pickled or stored; its value is read from the environment at each request.
    headers: tuple = ()
