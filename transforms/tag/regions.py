"""Where a page's lines sit relative to its story: the byline row before it, the credit row after it."""
from __future__ import annotations

# Lines this close to the start/end of the body are where datelines and credit lines live.
HEAD_LINES = 3
TAIL_LINES = 6
# Page lines this close before the body are the byline row; after it, the credit/source row.
PAGE_HEAD_WINDOW = 8
PAGE_TAIL_WINDOW = 6
# Page lines shorter than this cannot anchor the body reliably ("Advertisement", "US").
ANCHOR_MIN_CHARS = 40
ANCHOR_PROBE_CHARS = 60
# Without extractor text, a page line this long is taken to be a story paragraph.
PARAGRAPH_MIN_CHARS = 120
# Marked-up bylines further than this many lines from the article's first byline belong to other items.
BYLINE_ROW_SPAN = 3


class PageRegions:
    """The page's visible lines split around the extracted body: byline row before, credit row after."""

    def __init__(self, lines: list[str], start: int | None, end: int | None):
        self.lines = lines
        self.found = start is not None
        self.start, self.end = start, end
        self.head = lines[max(0, start - PAGE_HEAD_WINDOW):start] if self.found else []
        self.body = lines[start:end + 1] if self.found else []
        self.tail = lines[end + 1:end + 1 + PAGE_TAIL_WINDOW] if self.found else []

    @classmethod
    def locate(cls, lines: list[str], raw: list[str]) -> "PageRegions":
        # The body is where the page's long lines reappear in the extractor's text; the probe is a
        # prefix so that an extractor joining or splitting paragraphs still anchors.
        text = "\n".join(raw)
        hits = [i for i, line in enumerate(lines)
                if len(line) >= ANCHOR_MIN_CHARS and line[:ANCHOR_PROBE_CHARS] in text]
        if not hits:
            # No extractor text to anchor on (extraction failed or was skipped): paragraph-length
            # lines are the best remaining guess for where the story is.
            hits = [i for i, line in enumerate(lines) if len(line) >= PARAGRAPH_MIN_CHARS]
        if not hits:
            return cls(lines, None, None)
        return cls(lines, hits[0], hits[-1])

    def index_of(self, text: str) -> int | None:
        """Index of the first visible line that is or contains text, or None."""
        for i, line in enumerate(self.lines):
            if line == text or (len(text) >= 4 and text in line):
                return i
        return None


def article_bylines(bylines: list[str], page: PageRegions) -> list[str]:
    """The marked-up bylines that belong to the article, not to teasers, sidebars or lists around it.

    A byline shown on the page counts when it sits in the byline row: before the story (or in its
    first lines) and next to the first such byline. Teasers of related articles and breaking-news
    lists carry bylines of their own further down ("By REUTERS" under every item). A byline that is
    not visible (meta author, hidden markup) is kept: it describes the page.
    """
    kept, placed = [], []
    for text in bylines:
        index = page.index_of(" ".join(text.split())) if page.lines else None
        if index is None:
            kept.append(text)
        else:
            placed.append((index, text))
    if placed and page.found:
        placed = [(i, t) for i, t in placed if page.start - PAGE_HEAD_WINDOW <= i <= page.start + HEAD_LINES]
    if placed:
        first = min(i for i, _ in placed)
        kept += [t for i, t in placed if i - first <= BYLINE_ROW_SPAN]
    return kept

