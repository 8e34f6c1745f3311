"""Poll one sitemap source: discover through robots.txt, follow indexes, and list new entries (no Beam).

A source is a sitemap URL (`kind='sitemap'`, a urlset or an index) or a site (`kind='site'`),
whose sitemaps are the `Sitemap:` lines of its robots.txt, else /sitemap.xml. Indexes are
followed breadth first to `max_sitemap_depth`, at most `max_sitemaps_per_poll` downloads a poll.
The first sitemap, when it is a urlset, is asked with conditional GET (its ETag / Last-Modified
are the source's FeedState); on later polls, index children and entries dated (lastmod, news:publication_date) at
or before the last successful poll are passed over. Entries carry the news:title and
news:publication_date as hints, with source_kind 'sitemap'.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from schemas.settings import Settings
from schemas.types import FeedEntry, FeedSpec, FeedState
from transforms.feeds.outcome import (
    PollOutcome,
    conditional_headers,
    count,
    dead,
    failed_state,
    ok_state,
    unchanged_state,
)
from transforms.feeds.sitemaps import SitemapError, parse_sitemap, robots_sitemaps
from transforms.feeds.urls import BadLink, check_link
from transforms.fetch.errors import FetchError
from transforms.util.ids import stable_id
from transforms.util.times import ts_of


def poll_sitemaps(spec: FeedSpec, previous: FeedState | None, fetcher, settings: Settings, polled_at: str,
                  counts: dict) -> PollOutcome:
    """One poll of a sitemap or site source; every sitemap that fails is one dead letter, the rest go on."""
    count(counts, "feeds_polled")
    dead_letters: list = []
    roots = discover(spec, fetcher, settings) if spec.kind == "site" else [spec.url]
    cutoff = None
    if previous is not None and not previous.consecutive_failures:
        cutoff = ts_of(previous.last_polled_at)
    crawl = _Crawl(spec, fetcher, settings, polled_at, counts, dead_letters, cutoff)
    root = crawl.run(roots, conditional_headers(previous))
    entries = tuple(crawl.entries)
    if root is None:  # the first sitemap could not be read: the source failed this poll
        return PollOutcome(entries, failed_state(spec.url, previous, polled_at, 0),
                           tuple(dead_letters), counts)
    if root.status == 304:
        count(counts, "feeds_unchanged")
        state = unchanged_state(spec.url, previous, polled_at)
    elif crawl.root_is_index:
        # An index's children change without it: no validators, so the next poll reads it again
        # (it is small) and skips only the children whose lastmod is older than this poll.
        state = ok_state(spec.url, polled_at, root.status, None, None, len(entries))
    else:
        state = ok_state(spec.url, polled_at, root.status, root.headers.get("etag"),
                         root.headers.get("last-modified"), len(entries))
    return PollOutcome(entries, state, tuple(dead_letters), counts)


def discover(spec: FeedSpec, fetcher, settings: Settings) -> list:
    """A site's sitemaps: its robots.txt `Sitemap:` lines (resolved, once each), else /sitemap.xml."""
    parts = urlsplit(spec.url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    try:
        robots = fetcher.get(urljoin(origin, "robots.txt"), max_bytes=settings.fetch.max_robots_bytes)
        listed = robots_sitemaps(robots.body.decode("utf-8", "replace")) if robots.status == 200 else []
    except FetchError:
        listed = []  # no robots.txt is the common case, not a failure
    found: list = []
    for value in listed:
        url = urljoin(origin, value)
        if url not in found and urlsplit(url).scheme in ("http", "https"):
            found.append(url)
    return found or [urljoin(origin, "sitemap.xml")]


class _Crawl:
    """One poll's walk over sitemaps: breadth first, bounded in depth and downloads."""

    def __init__(self, spec, fetcher, settings: Settings, polled_at, counts, dead_letters, cutoff):
        self.spec, self.fetcher, self.settings = spec, fetcher, settings
        self.polled_at, self.counts, self.dead_letters, self.cutoff = polled_at, counts, dead_letters, cutoff
        self.entries: list = []
        self.links: set = set()
        self.root_is_index = False

    def run(self, roots: list, root_headers: dict):
        """Walk from roots; returns the first root's response (None when it failed)."""
        limits = self.settings.sources
        queue = [(url, 0) for url in roots]
        seen, fetched, root = set(), 0, None
        while queue:
            url, depth = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            if fetched >= limits.max_sitemaps_per_poll:
                self._dead("too_many_sitemaps", f"more than {limits.max_sitemaps_per_poll} sitemaps in one poll; "
                           f"{len(queue) + 1} left for later polls", url)
                break
            fetched += 1
            is_root = url == roots[0]
            response = self._get(url, root_headers if is_root else {})
            if is_root:
                root = response
            if response is None or response.status == 304:
                continue
            count(self.counts, "sitemaps_read")
            try:
                sitemap = parse_sitemap(response.body, limits.max_sitemap_bytes, limits.max_sitemap_urls)
            except SitemapError as err:
                self._dead(err.reason, err.message, url, payload=response.body)
                continue
            if sitemap.problem:
                self._dead(*sitemap.problem, url, payload=response.body)
            if sitemap.kind == "index":
                self.root_is_index = self.root_is_index or is_root
                queue.extend(self._children(sitemap, response.final_url, depth))
            else:
                for index, item in enumerate(sitemap.urls):
                    self._entry(item, response.final_url, index)
        return root

    def _get(self, url: str, headers: dict):
        try:
            return self.fetcher.get(url, headers=headers, max_bytes=self.settings.sources.max_sitemap_bytes)
        except FetchError as err:
            self._dead(err.reason, err.message, url, attempt=err.attempts)
            return None

    def _children(self, sitemap, base: str, depth: int) -> list:
        if depth + 1 >= self.settings.sources.max_sitemap_depth:
            self._dead("sitemap_too_deep", f"a sitemap index nested deeper than "
                       f"{self.settings.sources.max_sitemap_depth} levels; its children are not read", base)
            return []
        out = []
        for loc, lastmod in sitemap.children:
            if not loc:
                count(self.counts, "sitemap_children_without_loc")
            elif self._old(lastmod):
                count(self.counts, "sitemaps_not_modified")
            else:
                out.append((urljoin(base, loc), depth + 1))
        return out

    def _entry(self, item, base: str, index: int) -> None:
        if self._old(item.news_published_at or item.lastmod):
            count(self.counts, "sitemap_entries_old")  # listed at an earlier poll: not an entry of this one
            return
        count(self.counts, "entries")
        try:
            link = check_link(item.loc, base, self.settings.fetch.max_url_length)
        except BadLink as err:
            count(self.counts, "entries_invalid")
            self._dead(err.reason, err.message, item.loc or None, payload=repr(item), key=f"{base}\x1f{index}")
            return
        if link in self.links:  # listed twice (in two sitemaps of one site, say): one entry
            count(self.counts, "skipped")
            count(self.counts, "skip.repeated_link")
            return
        self.links.add(link)
        spec = self.spec
        self.entries.append(FeedEntry(
            entry_id=stable_id(spec.url, link),
            feed_url=spec.url,
            feed_name=spec.name or item.news_publication,
            agency_hint=spec.agency,
            url=link,
            title=item.news_title,
            published_at=item.news_published_at,
            categories=list(item.news_keywords),
            polled_at=self.polled_at,
            source_kind="sitemap",
        ))

    def _old(self, when) -> bool:
        return self.cutoff is not None and when is not None and ts_of(when) <= self.cutoff

    def _dead(self, reason: str, message: str, url, payload=None, attempt=None, key=None) -> None:
        self.dead_letters.append(dead(self.counts, reason, message, url=url, feed_url=self.spec.url,
                                      payload=payload, attempt=attempt or 1, key=key))
