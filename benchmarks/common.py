"""Shared helpers of the benchmark scripts: corpus paths, the AEB metric, bootstrap, peers, timing.

The AEB shingle metric is the corpus's own `syndication/score.py` (imported, never copied). Peer
extractors come from the `[bench]` extra; a peer that is not installed (CI installs only `[test]`)
is reported as unavailable with the reason, and the benchmark goes on without it.
"""
from __future__ import annotations

import gzip
import importlib.util
import random
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CORPUS = REPO.parent / "shared" / "corpus"
AEB_DIR = CORPUS / "aeb"
NEWS_DIR = CORPUS / "news"
SYNDICATION_DEV = CORPUS / "syndication" / "dev"

# The order in which peers are printed (the list).
PEER_NAMES = ("trafilatura", "newspaper4k", "news-please", "readability-lxml", "goose3")


# ------------------------------------------------------------------------------------------ scoring
def load_scorer(split_dir: Path = SYNDICATION_DEV):
    """The corpus's own score.py, imported from beside the split (it is not ours to copy)."""
    path = Path(split_dir).parent / "score.py"
    spec = importlib.util.spec_from_file_location("syndication_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bootstrap(values: list, statistic, rounds: int = 1000, seed: int = 7) -> float:
    """Half-width of the 95% percentile bootstrap interval of statistic(sample of values)."""
    if len(values) < 2:
        return 0.0
    rng = random.Random(seed)
    n = len(values)
    stats = sorted(statistic([values[rng.randrange(n)] for _ in range(n)]) for _ in range(rounds))
    low, high = stats[int(0.025 * rounds)], stats[int(0.975 * rounds) - 1]
    return (high - low) / 2


def paired_bootstrap(a: list, b: list, statistic, rounds: int = 1000, seed: int = 7) -> tuple:
    """(difference statistic(a) - statistic(b), 95% interval) resampling the same items for both."""
    rng = random.Random(seed)
    n = len(a)
    diffs = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        diffs.append(statistic([a[i] for i in idx]) - statistic([b[i] for i in idx]))
    diffs.sort()
    return statistic(a) - statistic(b), (diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1])


def median_ms(seconds: list) -> float:
    return 1000 * statistics.median(seconds) if seconds else float("nan")


def rss_kb() -> int:
    """Resident set size of this process now, in KiB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


def read_gz(path: Path) -> bytes:
    return gzip.decompress(Path(path).read_bytes())


# -------------------------------------------------------------------------------------------- peers
class Peer:
    """One extractor: `run(html, url)` -> {body, title, authors, date}; `error` says why it is unavailable."""

    def __init__(self, name: str, loader):
        self.name = name
        self.run = None
        self.error = None
        self.version = None
        try:
            self.run, self.version = loader()
        except Exception as exc:  # noqa: BLE001 - any import failure means "unavailable", reported below
            self.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:160]

    @property
    def available(self) -> bool:
        return self.run is not None

    def describe(self) -> str:
        return f"{self.name} {self.version}" if self.available else f"{self.name}: unavailable ({self.error})"


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


def _load_trafilatura():
    import trafilatura

    def run(html, url):
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        if doc is None:
            return {"body": "", "title": None, "authors": [], "date": None}
        doc = doc if isinstance(doc, dict) else doc.as_dict()
        authors = [a.strip() for a in (doc.get("author") or "").split(";") if a.strip()]
        return {"body": doc.get("text") or "", "title": doc.get("title"), "authors": authors,
                "date": doc.get("date")}

    def body_only(html, url):
        return {"body": trafilatura.extract(html, url=url) or ""}

    run.body_only = body_only
    return run, _version("trafilatura")


def _load_newspaper():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import newspaper

    def run(html, url):
        article = newspaper.Article(url or "http://example.com/", fetch_images=False)
        article.download(input_html=html)
        article.parse()
        return {"body": article.text or "", "title": article.title, "authors": list(article.authors or []),
                "date": article.publish_date}

    return run, _version("newspaper4k")


def _load_newsplease():
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from newsplease import NewsPlease
    logging.getLogger("newsplease").setLevel(logging.CRITICAL)

    def run(html, url):
        article = NewsPlease.from_html(html, url=url, fetch_images=False)
        return {"body": article.maintext or "", "title": article.title, "authors": list(article.authors or []),
                "date": article.date_publish}

    return run, _version("news-please")


def _load_readability():
    import logging

    import lxml.html
    from readability import Document

    logging.getLogger("readability").setLevel(logging.CRITICAL)
    logging.getLogger("readability.readability").setLevel(logging.CRITICAL)

    def run(html, url):
        doc = Document(html, url=url)
        summary = doc.summary(html_partial=True)
        tree = lxml.html.fromstring(summary) if summary.strip() else None
        text = ""
        if tree is not None:
            blocks = [" ".join(el.text_content().split()) for el in tree.iter("p", "h1", "h2", "h3", "li", "pre",
                                                                            "blockquote", "td")]
            text = "\n".join(b for b in blocks if b) or " ".join(tree.text_content().split())
        # readability-lxml reads no authors or dates.
        return {"body": text, "title": doc.short_title(), "authors": [], "date": None}

    return run, _version("readability-lxml")


def _load_goose():
    import logging

    from goose3 import Goose

    logging.getLogger("goose3").setLevel(logging.CRITICAL)
    goose = Goose({"enable_image_fetching": False, "http_timeout": 0.001})

    def run(html, url):
        article = goose.extract(raw_html=html, url=url)
        return {"body": article.cleaned_text or "", "title": article.title, "authors": list(article.authors or []),
                "date": article.publish_datetime_utc or article.publish_date}

    return run, _version("goose3")


_LOADERS = {"trafilatura": _load_trafilatura, "newspaper4k": _load_newspaper, "news-please": _load_newsplease,
            "readability-lxml": _load_readability, "goose3": _load_goose}


def load_peers(names=PEER_NAMES) -> list:
    return [Peer(name, _LOADERS[name]) for name in names]


def safe_run(fn, *args) -> tuple:
    """(result or None, seconds, error text or None): a peer crashing on one page scores that page empty."""
    started = time.perf_counter()
    try:
        result = fn(*args)
        error = None
    except Exception as exc:  # noqa: BLE001 - benchmarks record failures per page and continue
        result, error = None, f"{type(exc).__name__}: {exc}"
    return result, time.perf_counter() - started, error
