"""URL identity: canonical form, article id and outlet domain."""
from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from schemas.errors import Failure
from transforms.util.ids import stable_id

# Query parameters that track the reader, not identify the article.
_TRACKING = re.compile(
    r"^(utm_[a-z_]+|ref|ref_src|fbclid|gclid|dclid|mc_cid|mc_eid|cmpid|ocid|amp|output|from|src|"
    r"__twitter_impression|_ga|igshid|yclid|at_medium|at_campaign|cid|icid|s_cid|taid|sr_share)$",
    re.I,
)
_AMP_SUFFIX = re.compile(r"(/amp|\.amp)/?$", re.I)
_AMP_SEGMENT = re.compile(r"/amp(?=/)", re.I)


class BadLink(Failure, ValueError):
    """A feed link that cannot be an article URL."""


def check_link(link: str | None, base: str | None, max_length: int) -> str:
    """An absolute http(s) URL from a feed link, or BadLink saying why not."""
    if link is None or not str(link).strip():
        raise BadLink("missing_link", "entry has no link")
    link = str(link).strip()
    if len(link) > max_length:
        raise BadLink("link_too_long", f"link is {len(link)} characters, over the {max_length} cap")
    absolute = urljoin(base, link) if base else link
    parts = urlsplit(absolute)
    if parts.scheme.lower() not in ("http", "https"):
        raise BadLink("bad_link_scheme", f"link scheme {parts.scheme or '(none)'!r} is not http(s): {link[:200]}")
    if not parts.hostname:
        raise BadLink("relative_link", f"link has no host: {link[:200]}")
    return absolute


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, tracking parameters, AMP markers and fragment dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    if host.startswith("amp."):
        host = host[4:]
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = _AMP_SEGMENT.sub("", _AMP_SUFFIX.sub("", parts.path or "/")) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def pick_canonical(page_url: str, declared: str | None) -> str:
    """The declared canonical when it stays on the same site, else the fetched URL; both normalised.

    A canonical pointing to another site is how syndication partners credit the original;
    trusting it would merge two outlets' rows into one, so it is ignored for identity.
    """
    fetched = canonical_url(page_url)
    if not declared:
        return fetched
    candidate = canonical_url(urljoin(page_url, declared))
    if outlet_of(candidate) != outlet_of(fetched):
        return fetched
    return candidate


def article_id(canonical: str) -> str:
    return stable_id("article", canonical)


@functools.lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # The bundled public-suffix snapshot: no network at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=65536)
def outlet_of(url: str) -> str:
    """Registered domain of a URL (bbc.co.uk for news.bbc.co.uk); the host's last two labels otherwise."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not host:
        return ""
    ext = _extractor()(host)
    if ext.suffix and ext.domain:
        return f"{ext.domain}.{ext.suffix}"
    labels = [label for label in host.split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
