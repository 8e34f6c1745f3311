"""Line-level boilerplate removal for extracted article text.

Every rule matches a WHOLE line (after whitespace normalisation), never a substring, so a body
paragraph that merely mentions "Reuters", "advertisement" or "Google News" in running text is kept.
Removed lines are returned too: agency tagging reads credit lines from them.
"""
from __future__ import annotations

import functools
import re
import unicodedata

# Credit words that name no one agency; every agency name itself comes from the registry
# (transforms/tag/data/agencies.yaml, or the user's --agency-registry), so both stages agree.
GENERIC_CREDIT = r'agencies|agency|wires?|news agencies|wire services?'
_DASH = r'[-–—―]+'
_MONTH = r'(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?'

_WS_RE = re.compile(r'\s+')
_INVISIBLE_RE = re.compile('[\u200b\u200c\u200d\u2060\ufeff\u00ad]')


def _patterns(agencies: str) -> list:
    """Every boilerplate pattern, matched with fullmatch against the normalised line."""
    return [
        # Ads and ad-slot leftovers.
        r'(?:advertisement|advertisment|advert|ad|ads|sponsored|promoted|promotion|\[ad\])\s*[:.]?',
        r'(?:story|article|text|content)\s+continues\s+(?:below|after)(?:\s+(?:this|the))?(?:\s+(?:advertisement|ad|video))?\.?',
        r'(?:story|article)\s+continues\.?',
        r'(?:scroll|continue reading)\s+(?:down\s+)?(?:to|for)\s+(?:continue|read more|next story)[^.]{0,40}\.?',
        # Lone close buttons and icon glyphs.
        r'[x×✕✖]',
        # Comment widgets.
        r'(?:show|hide|view|load|read|see|post|add|leave)\s+(?:a\s+|all\s+|the\s+)?comments?(?:\s*\(\d+\))?',
        r'\d+\s+comments?',
        r'comments?(?:\s*\(\d+\))?',
        # Cross-links.
        # 'Also Read <headline>' with or without a separator; real prose never opens like this.
        r'also\s+read\b.{0,200}',
        r'(?:read|see)\s+(?:more|also|next|full story|the full story)\b[^.]{0,150}',
        r'(?:related|recommended|more from [\w ]{1,30}|top stories|trending|most read|latest news|you may also like)'
        r'(?:\s*(?:stories|articles|news))?\s*:?',
        r'click here\b.{0,120}',
        # Share widgets: a line made only of share verbs and network names.
        r'(?:(?:share|tweet|email|e-mail|print|copy link|whatsapp|facebook|twitter|x|linkedin|reddit|telegram|'
        r'pinterest|share this(?: article| story)?|share on|share via|share:|on)\s*[:|,]?\s*){1,12}',
        # Follow prompts: short lines pointing to a social or news-aggregator channel.
        r'(?:follow|join|subscribe to|like)\b.{0,80}\b(?:on|at|via)\s+(?:google news|twitter|x|facebook|instagram|'
        r'telegram|whatsapp|linkedin|youtube|threads|dailyhunt)\b.{0,80}',
        r'(?:download|get)\s+(?:the\s+)?[\w ]{0,30}\bapp\b.{0,80}(?:updates|news)[^.]{0,40}\.?',
        # Newsletter prompts.
        r'(?:sign up|subscribe|register|get|receive)\b.{0,120}\b(?:newsletter|inbox|daily briefing|email updates)\b.{0,120}',
        r'.{0,80}\bnewsletters?\b.{0,40}\b(?:sign up|subscribe)\b.{0,60}',
        # Standalone agency credits: 'IANS', '(IANS)', '— PTI', 'PTI xyz abc' desk tags, 'Source: PTI'.
        rf'[\(\[]?\s*(?:{_DASH}\s*)?{agencies}\s*[\)\]]?\s*\.?',
        rf'{agencies}\s*/\s*[a-z]{{1,6}}(?:\s*/\s*[a-z]{{1,6}})*',
        r'(?:PTI|IANS|UNI)(?:\s+[A-Z]{2,4}){1,4}',
        rf'[\(\[]?(?:with\s+(?:inputs?|input)\s+from|inputs?\s+from|with\s+agency\s+inputs|with\s+(?:wire|agency)\s+inputs|'
        rf'source|sources|credit|courtesy|(?:written|edited|compiled)\s+by)\s*[:\-–—]?\s*{agencies}[\)\]]?\.?',
        r'(?:with\s+inputs?\s+from|inputs?\s+from)\s+(?:agencies|news agencies|wires?|[\w .&]{2,40})\.?',
        r'with\s+agency\s+inputs\.?',
        rf'(?:by|from)\s+{agencies}\.?',
        # Reuters / AP trailers.
        r'\(?\s*(?:reporting|additional reporting|writing|editing|compiled|compiling)\s+by\b[^)]{0,300}\)?\.?',
        r'.{0,250}\bcontributed\s+(?:to\s+)?(?:this\s+)?(?:report|story|article)(?:\s+from\s+[\w ,.]{1,60})?\.?',
        # Partner republication notes.
        r'(?:this|the)\s+(?:article|story|piece|report|post)\s+(?:first|originally)\s+appeared\b.{0,200}',
        r'(?:this|the)\s+(?:article|story|piece|report)\s+was\s+(?:first|originally)\s+published\b.{0,200}',
        r'(?:originally|first)\s+published\s+(?:on|in|at|by)\b.{0,150}',
        # Copyright lines.
        # 'Copyright infringement suits rose…' is body text: require a symbol, a year or a colon.
        r'(?:copyright\s*)?(?:©|\(c\))\s*.{0,250}',
        r'(?:copyright|copr\.?)\s*(?::|\d{4}\b).{0,250}',
        r'.{0,120}\ball rights reserved\b.{0,200}',
        # Syndication disclaimers.
        r'\(?[^()]{0,250}\b(?:auto-generated|automatically generated|auto generated)\s+from\s+(?:a\s+)?syndicated\s+feed[^()]{0,150}\)?\.?',
        r'\(?[^()]{0,200}\bhas not been edited by\b[^()]{0,200}\)?\.?',
        r'\(?\s*disclaimer\s*:.{0,400}',
        # Photo/video credit stubs and embed leftovers.
        r'\(?(?:photo|image|file photo|picture|video|representational image|representative image)\s*'
        r'(?:credit)?\s*[:|]\s*[^.]{0,80}\)?',
        r'(?:watch|video)\s*[:|].{0,120}',
        # Tweet embeds rendered as text: the status line and the '— Name (@handle) date' signature.
        r'.{0,280}\bpic\.twitter\.\S+',
        r'[-–—]+\s*[^()]{1,60}\(@\w{1,30}\)\s+\w+\s+\d{1,2},\s+\d{4}',
        # Dated byline strips such as 'Wednesday, 03 July 2019 | PTI | San Francisco'.
        rf'(?:\w+day,?\s+)?(?:\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{1,2}},?)\s+\d{{4}}\s*\|.{{0,80}}',
        r'(?:updated|published|posted|last updated)\s*[:|]?\s*[\w ,:.+-]{4,60}(?:ist|gmt|utc|et|pt|am|pm)\.?',
    ]

# Long paragraphs are body text even when a pattern could match (e.g. a paragraph opening with
# "Sources said"); only short lines are eligible for removal by the broad credit patterns.
_MAX_BOILERPLATE_WORDS = 60


def normalise_whitespace(line: str) -> str:
    """NFC, drop zero-width characters, collapse all whitespace runs (incl. NBSP) to one space."""
    line = unicodedata.normalize('NFC', line)
    line = _INVISIBLE_RE.sub('', line)
    return _WS_RE.sub(' ', line).strip()


class LineCleaner:
    """The boilerplate and credit-line rules, with the agency names of one registry."""

    def __init__(self, agency_names: str):
        # agency_names: a regex alternative of every agency name (AgencyRegistry.name_pattern);
        # its codes stay case-sensitive inside the case-insensitive line patterns.
        agency = f'(?:{agency_names}|{GENERIC_CREDIT})'
        agencies = rf'{agency}(?:\s*(?:,|/|&|and)\s*{agency})*'
        self._res = [re.compile(p, re.IGNORECASE) for p in _patterns(agencies)]

    @classmethod
    def for_registry(cls, registry) -> 'LineCleaner':
        return cls(registry.name_pattern)

    def is_boilerplate(self, line: str) -> bool:
        """True when the whole normalised line is a known boilerplate or credit form."""
        if len(line.split()) > _MAX_BOILERPLATE_WORDS:
            return False
        return any(rx.fullmatch(line) for rx in self._res)

    def clean_lines(self, lines: list[str]) -> tuple[list[str], list[str]]:
        """Split paragraphs into (kept body paragraphs, removed boilerplate lines), whitespace-normalised."""
        kept: list[str] = []
        removed: list[str] = []
        for raw in lines:
            line = normalise_whitespace(raw or '')
            if not line:
                continue
            (removed if self.is_boilerplate(line) else kept).append(line)
        return kept, removed


@functools.lru_cache(maxsize=1)
def default_cleaner() -> LineCleaner:
    """The cleaner of the bundled registry."""
    from transforms.tag.registry import AgencyRegistry

    return LineCleaner.for_registry(AgencyRegistry.default())


def is_boilerplate(line: str) -> bool:
    """is_boilerplate with the bundled registry's agencies."""
    return default_cleaner().is_boilerplate(line)


def clean_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """clean_lines with the bundled registry's agencies."""
    return default_cleaner().clean_lines(lines)
