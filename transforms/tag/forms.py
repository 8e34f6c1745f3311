"""The shapes a credit takes on a page, in the languages wiredesk reads, as regex templates.

'{name}' in a template stands for any agency name of the registry (AgencyRegistry.compile fills it
in). Everything here is a *form*: a position-free shape that the rules in rules.py then anchor to a
place on the page (the story's first lines, its last lines, the byline row).
"""
from __future__ import annotations

import re

DASH = r"(?:-{1,2}|[–—―])"
SPACE_RE = re.compile(r"\s+")

# Photo, video and graphic credits are not credits for the text.
PHOTO_RE = re.compile(
    r"\b(?:photos?|photograph\w*|image|images|imagen|imagem|pic|pics|picture|file\s+photo|video|vídeo|graphic|"
    r"grafik|illustration|cartoon|representational|fotos?|fotograf\w*|foto\w+|bild|bilder|bildrechte|"
    r"getty|screenshot|infogra\w+|archivbild|symbolbild)\b|写真|사진|圖片|图片|фото|صورة", re.I)

# Labels that introduce the source of a text: "Source:", "Quelle:", "Bron:", "Kaynak:", "来源：".
SOURCE_LABEL = (r"(?:sources?|quellen?|tekst|text|bron(?:nen)?|fuentes?|fontes?|fonti|kaynak(?:lar)?|źródło|zdroj|"
                r"forrás|"
                r"izvor|källa|kilde|lähde|πηγή|источник|джерело|agency|agencia|agence|agentur|courtesy|credit|"
                r"provided\s+by|来源|來源|출처|出典|出所|المصدر)")
SOURCE_LABEL_RE = re.compile(r"^\s*" + SOURCE_LABEL + r"\s*[:：]\s*", re.I)

# Byline prefixes: "By", "Von", "Par", "Por", "Di", "Door", "Av", "Af", "Przez", "Od".
BY_PREFIX_RE = re.compile(
    r"^(?:(?:(?:written|posted|edited|compiled|reported)\s+)?by|von|par|por|di|door|av|af)\s*:?\s+", re.I)
LABEL_PREFIX_RE = re.compile(r"^(?:source|agency|courtesy|credit|provided\s+by)\s*:?\s*", re.I)
# Segments of a byline row: "IANS | Washington", "By PTI · New Delhi", "Haberler - Anadolu Ajansı".
BYLINE_SPLIT_RE = re.compile(r"\s*[|·•]\s*|\s+[-–—]\s+|\n")

# A place in "PTI, Washington" or "PTI, New York, Nov 20 2019, 10:18am ist": capitalised words.
PLACE = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}(?:\s*\[[^\]]{1,30}\])?"
_NAME_WORDS = r"[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|da|al|bin|der|del|la|le)){0,5}"
# One or more people, or an outlet: "Arjun Delacroix", "Felix Schröder und Jörg Soldwisch", "Le Figaro".
PERSON = _NAME_WORDS + r"(?:\s*(?:,|&|\band\b|\bund\b|\bet\b|\by\b|\be\b)\s*" + _NAME_WORDS + r"){0,3}"
# Joining an agency to staff: "and" credits the agency jointly, "with" makes it a contributor.
JOINT = r"(?:and|und|et|y|e|og|och|en|ve|i|&)"
WITH = r"(?:with|mit|avec|con|com|met|med|ile|z)"
STAFF_TITLE = r"(?:writer|correspondent|reporter|editor|journalist|staff\s+writer)s?"

# Segment templates that make a byline an agency's: (template, kind of evidence).
BYLINE_FORMS = (
    # "PTI, Washington", "AFP, MANILA", "PTI, New York, Nov 20 2019, 10:18am ist"
    (r"^(?:the\s+)?(?P<agency>{name})\s*,\s*" + PLACE + r"(?:\s*,\s*.*\d.*)?$", "byline"),
    # "Reuters Staff", "AFP Newsroom", "PTI Desk"
    (r"^(?:the\s+)?(?P<agency>{name})\s+(?i:staff|newsroom|desk|wire|bureau)$", "byline"),
    # "Associated Press in Valencia", "AFP in Paris"
    (r"^(?:the\s+)?(?P<agency>{name})\s+(?:in|from|aus|à|en|em|a|w|v)\s+" + PLACE + r"$", "byline"),
    # "Tom Krisher, AP Auto Writer", "By JOE SMITH, Associated Press Writer"
    (r"^" + PERSON + r"\s*,\s*(?:the\s+)?(?P<agency>{name})(?:\s+[A-Za-z]+){0,2}\s+(?i:" + STAFF_TITLE + r")$",
     "byline"),
    # "Adam Vidler and AP", "Par Le Figaro et AFP": a joint byline credits the agency.
    (r"^" + _NAME_WORDS + r"\s+(?i:" + JOINT + r")\s+(?:the\s+)?(?P<agency>{name})$", "byline"),
    # "Reuters, Thorsten Kramer", "dpa / MM-Redaktion"
    (r"^(?:the\s+)?(?P<agency>{name})\s*[,/]\s*" + _NAME_WORDS + r"$", "byline"),
    # "Arjun Delacroix, IANS", "Arjun Delacroix for Reuters", "Von Konstantin Furrer, Deutsche Presse-Agentur"
    (r"^" + PERSON + r"\s*(?:,|\bof\b|\bfor\b)?\s+(?:the\s+)?(?P<agency>{name})$", "byline"),
    (r"^" + PERSON + r",\s*(?:the\s+)?(?P<agency>{name})$", "byline"),
    # "Par Le Figaro avec AFP", "Von Anna Schmidt mit dpa", "By Jane Doe with AP": a contribution.
    (r"^" + _NAME_WORDS + r"\s+(?i:" + WITH + r")\s+(?:(?i:the|l['’])\s*)?(?P<agency>{name})$", "contribution"),
)

# Whole-line credit: "IANS", "(IANS)", "— PTI", "With inputs from PTI", "Source: PTI", "— Agencies".
CREDIT_LINE = (
    r"^[(\[]?\s*(?:" + DASH + r"\s*)?"
    r"(?:(?:with\s+(?:additional\s+)?inputs?\s+from|inputs?\s+from|" + SOURCE_LABEL + r")"
    r"\s*(?::|：|" + DASH + r")?\s*)?"
    r"(?:the\s+)?{name}(?:\s*(?:,|/|&|\band\b)\s*(?:the\s+)?{name})*"
    r"\s*[)\]]?\s*\.?$"
)
# A trailer that says the agency wrote the report: "This report by The Canadian Press was first
# published May 8, 2025.", "This story was originally published by Reuters."
PUBLISHED_BY = (
    r"^this\s+(?:report|story|article)\s+by\s+(?:the\s+)?(?P<agency>{name})\s+was\s+(?:first\s+)?published\b",
    r"^this\s+(?:report|story|article)\s+was\s+(?:first|originally)\s+published\s+by\s+(?:the\s+)?(?P<agency>{name})\b",
)
# "WASHINGTON (AP) —", "(Reuters) -", "New Delhi, Nov 20 (PTI)", "MADRID, 5 (EUROPA PRESS).-", "ANKARA (AA) -".
DATELINE_MAX_PREFIX = 80
DATELINE = (
    r"^\s*(?P<place>[^()\n]{0," + str(DATELINE_MAX_PREFIX) + r"}?)\s*"
    r"\(\s*(?P<agency>{any_name})\s*\)\s*(?P<sep>\.?\s*" + DASH + r"|:)?"
)
# Datelines in other scripts' own shapes, each with an <agency> group. They are explicit credit forms,
# so weak codes count in them ('{any_name}'): "ANKARA (AA) -", "【ワシントン共同】".
BRACKET_DATELINES = (
    r"^【[^】]{0,30}?(?P<agency>{any_name})\s*】",                         # 【6月18日 AFP】, 【ワシントン共同】
    r"^[(\[（]\s*[^()\[\]=＝（）]{1,24}[=＝]\s*(?P<agency>{any_name})\s*[)\]）]",  # (서울=연합뉴스), [서울=뉴시스]
    r"^[^/\n]{0,60}?[.,]\s*/\s*(?P<agency>{name})\s*/",                 # МОСКВА, 5 мая. /ТАСС/.
)
# "... said on Monday. (IANS)", "... the report. --IANS", "... announced. PTI".
# A quote before the credit must close a sentence: "l'AFP." is a mention, "…did.' (IANS)" a credit.
INLINE_END = r"(?:(?<=[.!?])|(?<=[.!?][\"”’']))\s*(?P<credit>\(\s*{name}\s*\)|" + DASH + r"\s*{name}|{name})\s*\.?\s*$"
# "© Thomson Reuters 2019", "(c) Copyright Thomson Reuters 2016", "Copyright 2019 The Associated Press."
COPYRIGHT = (
    r"^\s*(?:©|\(c\)|copyright\b)\s*(?:©|\(c\))?\s*(?:copyright\b)?\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?"
    r"(?:the\s+)?(?P<agency>{name})"
)
# A staff story's acknowledgements: the agency helped, the page is not the agency's.
CONTRIBUTIONS = (
    r"^(?:the\s+)?{name}(?:\s+(?:staff\s+)?(?:writers?|reporters?|correspondents?|journalists?)\b[^.]{0,120})?"
    r"\s+contributed(?:\s+reporting)?\s+to\s+this\s+(?:report|story|article)",
    r"\b(?:with\s+(?:files|reporting|additional\s+reporting|material|information|inputs?)\s+(?:from|by)|"
    r"additional\s+reporting\s+(?:by|from)|(?:includes\s+)?(?:reporting|material|information)\s+from)\s+"
    r"(?:the\s+)?{any_name}",
    r"\bmit\s+(?:material|informationen|agenturmaterial)\s+(?:von|der|des)\s+{name}",
    r"\bweitere\s+quellen\s*[:•·]?\s*{name}",
    r"\bavec\s+(?:l['’]\s*)?{name}\b",
    r"\bcon\s+(?:informaci[oó]n|datos)\s+de\s+(?:la\s+)?(?:agencia\s+)?{name}",
    r"\bcom\s+(?:informa[çc][õo]es)\s+(?:da|de|do)\s+(?:agência\s+)?{name}",
    r"\bmet\s+(?:materiaal|informatie)\s+van\s+{name}",
    # "Mit Informationen der ARD-Korrespondenten sowie der Nachrichtenagenturen AFP, AP, dpa und Reuters."
    r"\bmit\s+informationen\s+(?:der|von|des)\b.{0,120}?{name}",
    # "mit dpa", "with AP", "avec AFP" standing alone under a staff byline.
    r"^(?:mit|with|avec|con|com|met)\s+(?:the\s+|l['’]\s*)?{name}\W*$",
)
DISCLAIMER_RE = re.compile(
    r"auto-?generated\s+from|syndicated\s+feed|(?:news\s+)?agency\s+feeds?|"
    r"not\s+been\s+edited\s+by\s+.{0,60}\bstaff", re.I)
# Every DISCLAIMER_RE form holds one of these words; a substring test rules out most lines far faster.
_DISCLAIMER_WORDS = ("generated", "syndicated", "agency", "staff")


def is_disclaimer(line: str) -> bool:
    """True when the line is a syndication disclaimer ("auto-generated from a syndicated feed")."""
    lowered = line.lower()
    return any(word in lowered for word in _DISCLAIMER_WORDS) and DISCLAIMER_RE.search(line) is not None
MONTH_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*\d{1,2}\b|\b\d{1,2}\s+"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)", re.I)
SENTENCE_END_RE = re.compile(r"[.!?]\s+[a-z]|[\"“”]")

# Tokens allowed beside agencies in a trailer list ("sak/Reuters", "Quelle: ntv.de, ino/dpa", "dpa / MM-Redaktion").
INITIALS_RE = re.compile(r"[a-zäöüéèàçøåæ]{1,5}\.?")
OUTLET_RE = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,4}|red\.?|[\w-]*(?:redaktion|redacci[oó]n|rédaction|newsroom|"
                       r"staff|desk|online)", re.I)
LIST_SPLIT_RE = re.compile(r"\s*[/,;•·|+]\s*|\s+(?:und|and|et|y|e|&)\s+")
