"""Tests for the agency registry data and its matching: every realwire agency, own domains, weak codes, CJK names."""
import json
import pickle
import re
from urllib.parse import urlsplit

import pytest

from tests.support.corpus import CORPUS, REPO
from transforms.clean.cleaning import LineCleaner
from transforms.tag.registry import AgencyRegistry, RegistryError, load_registry_data, validate_registry_data
from transforms.tag.registry_data import spelling_key

REALWIRE = CORPUS / "realwire"


@pytest.fixture(scope="module")
def registry():
    return AgencyRegistry.default()


def realwire_file(name: str):
    path = REALWIRE / name
    # Like every corpus test: a missing corpus is a failure, not a silent skip (CI always has it).
    if not path.exists():
        pytest.fail(f"shared corpus not available: {path}; set WIREDESK_CORPUS")
    return path


def readme_canonical_names() -> dict[str, list[str]]:
    """The "Canonical names" list of realwire/README.md: {name: spellings given in parentheses}."""
    text = realwire_file("README.md").read_text(encoding="utf-8")
    section = text.split("## Canonical names", 1)[1].split("\n## ", 1)[0]
    listing = re.split(r"\.\s", " ".join(section.split()), maxsplit=1)[0]
    names = {}
    for item in re.findall(r"([^,(]+?)\s*(?:\(([^)]*)\))?\s*(?:,|$)", listing):
        if item[0].strip():
            names[item[0].strip()] = [s.strip() for s in item[1].split(",") if s.strip()]
    return names


# ------------------------------------------------------------------------------------------- coverage
def test_readme_list_is_read():
    names = readme_canonical_names()
    assert len(names) >= 70 and {"IANS", "Agência Brasil", "News1", "SDA"} <= set(names)
    assert names["SDA"] == ["Keystone-SDA", "sda", "ats"]


def test_every_realwire_canonical_name_is_registered(registry):
    missing = [n for n in readme_canonical_names() if n not in registry.names]
    assert missing == []


def test_readme_spellings_map_to_their_agency(registry):
    wrong = {(s, n): registry.canonical(s) for n, spellings in readme_canonical_names().items()
             for s in [n, *spellings] if registry.canonical(s) != n}
    assert wrong == {}


def test_generic_pseudo_agency_and_its_languages(registry):
    assert registry.is_generic("Agencies")
    for word in ("Agencies", "Agenturen", "Agenturmaterial", "agences", "Agencias", "agenzie", "ajanslar"):
        assert registry.canonical(word) == "Agencies", word


@pytest.mark.parametrize("line, credited", [
    ("Mit Agenturmaterial.", True), ("mit Material von Agenturen", True), ("Con información de agencias", True),
    ("Avec agences", True), ("With agency inputs", True), ("Mit Agenturmaterial und Fotos wurde gestritten.", False),
    ("Agenturen melden steigende Preise", False),
])
def test_generic_credit_lines_in_several_languages(registry, line, credited):
    assert any(p.search(line) for p, a in registry.credit_patterns if a == "Agencies") == credited


def test_every_named_agency_documents_country_and_languages():
    undocumented = [e["name"] for e in load_registry_data() if not e["generic"]
                    and (not e["country"] or not e["languages"])]
    assert undocumented == []


def test_no_spelling_belongs_to_two_agencies():
    owners: dict[str, set] = {}
    for entry in load_registry_data():
        for spelling in [entry["name"], *entry["aliases"], *entry["codes"], *entry["weak_codes"]]:
            owners.setdefault(spelling_key(spelling), set()).add(entry["name"])
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_realwire_credits_name_their_agencies(registry):
    """Every agency labelled on a non-contribution realwire page is found in its evidence or by its site."""
    unfound = []
    for line in realwire_file("labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["contribution"]:
            continue
        found = {a for text in row["evidence"] for a, _ in registry.find(text, weak=True)}
        found |= {a for text in row["evidence"] for p, a in registry.dateline_patterns if p.match(text)}
        found.add(registry.agency_for_host(urlsplit(row["url"]).hostname or ""))
        unfound += [(row["path"], a) for a in row["agencies"] if a not in found]
    assert unfound == []


def test_data_stays_plain_and_picklable():
    data = load_registry_data()
    assert pickle.loads(pickle.dumps(data)) == data
    assert all(type(v) in (str, bool, list, type(None)) for entry in data for v in entry.values())


# ------------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize("entry, message", [
    ({"domains": "apnews.com"}, "'domains' must be a list"),
    ({"domains": ["https://apnews.com"]}, "must be a bare host name"),
    ({"domains": ["apnews.com/world"]}, "must be a bare host name"),
    ({"domains": ["apnews.com:443"]}, "must be a bare host name"),
    ({"domains": ["localhost"]}, "must be a bare host name"),
    ({"domains": ["www.apnews.com"]}, "must not start with 'www.'"),
    ({"dateline_patterns": ["^新华社("]}, "dateline pattern '^新华社(' is not a valid regex"),
    ({"dateline_patterns": "^x"}, "'dateline_patterns' must be a list"),
    ({"weak_codes": ["AA", ""]}, "'weak_codes' must be a list of non-empty strings"),
    ({"codes": ["AA"], "weak_codes": ["AA"]}, "['AA'] listed both under 'codes' and under 'weak_codes'"),
    ({"country": "de"}, "'country' must be an ISO 3166-1 alpha-2 code"),
    ({"country": "DEU"}, "'country' must be an ISO 3166-1 alpha-2 code"),
    ({"languages": ["German"]}, "language 'German' is not a language tag"),
    ({"languages": "de"}, "'languages' must be a list"),
])
def test_validation_errors_for_new_keys(entry, message):
    with pytest.raises(RegistryError) as info:
        validate_registry_data([{"name": "X", **entry}])
    assert message in str(info.value)
    assert "entry #0 (X)" in str(info.value)


@pytest.mark.parametrize("data, message", [
    ([{"name": "A", "domains": ["wire.example"]}, {"name": "B", "domains": ["WIRE.example"]}],
     "domain 'wire.example' is claimed by both 'A' and 'B'"),
    ([{"name": "A", "weak_codes": ["AA"]}, {"name": "B", "aliases": ["aa"]}], "'aa' is claimed by both 'A' and 'B'"),
])
def test_clashes_between_agencies(data, message):
    with pytest.raises(RegistryError, match=re.escape(message)):
        validate_registry_data(data)


def test_new_keys_are_normalised():
    entry = validate_registry_data([{"name": "X", "domains": ["Wire.Example."], "country": "DE",
                                     "languages": ["de", "zh-Hans"]}])[0]
    assert entry["domains"] == ["wire.example"] and entry["country"] == "DE"
    assert entry["languages"] == ["de", "zh-Hans"] and entry["weak_codes"] == []


def test_every_key_is_documented():
    from transforms.tag.registry_data import _ENTRY_KEYS
    docs = (REPO / "docs" / "agencies.md").read_text(encoding="utf-8")
    header = (REPO / "transforms" / "tag" / "data" / "agencies.yaml").read_text(encoding="utf-8").split("\n- ")[0]
    assert [k for k in sorted(_ENTRY_KEYS) if f"`{k}`" not in docs or f"{k}:" not in header] == []
    assert "docs/agencies.md" in header


# ------------------------------------------------------------------------------------------ own sites
@pytest.mark.parametrize("host, agency", [
    ("apnews.com", "AP"), ("www.apnews.com", "AP"), ("APNEWS.COM", "AP"), ("apnews.com:443", "AP"),
    ("hosted.ap.org", "AP"), ("https://hosted.ap.org/berkshireeagle/article/1", "AP"), ("reuters.com", "Reuters"),
    ("www.reuters.com.", "Reuters"), ("www.bloomberg.com", "Bloomberg"), ("en.yna.co.kr", "Yonhap"),
    ("www.afpbb.com", "AFP"), ("faktencheck.afp.com", "AFP"), ("www.aa.com.tr", "Anadolu"),
    ("english.news.cn", "Xinhua"), ("www.dowjones.com", "Dow Jones"),
    ("notapnews.com", None), ("apnews.com.example.org", None), ("ap.org.example", None), ("wsj.com", None),
    ("www.barrons.com", None), ("news.yahoo.com", None), ("", None), (None, None),
])
def test_agency_for_host(registry, host, agency):
    assert registry.agency_for_host(host) == agency


def test_longest_domain_wins():
    registry = AgencyRegistry.from_data([{"name": "A", "domains": ["example.com"]},
                                         {"name": "B", "domains": ["wire.example.com"]}])
    assert registry.agency_for_host("www.wire.example.com") == "B"
    assert registry.agency_for_host("sports.example.com") == "A"
    assert registry.agency_for_host("wire.example.com.evil.net") is None


# ----------------------------------------------------------------------------------------- CJK names
@pytest.mark.parametrize("text, agency, spelling", [
    ("新华社北京4月24日电", "Xinhua", "新华社"), ("来源：新华网", "Xinhua", "新华网"),
    ("(서울=연합뉴스) 홍길동 기자", "Yonhap", "연합뉴스"), ("(서울=뉴스1) 김기자", "News1", "뉴스1"),
    ("【ソウル＝ 뉴시스】", "Newsis", "뉴시스"), ("米AP通信によると", "AP", "AP通信"),
    ("共同通信によると", "Kyodo", "共同通信"), ("時事通信社", "Jiji", "時事通信社"), ("ロイター通信", "Reuters", "ロイター通信"),
    ("（中央社記者王小明台北24日電）", "CNA", "中央社"),
])
def test_cjk_names_match_without_word_boundaries(registry, text, agency, spelling):
    assert [(a, m.group(0)) for a, m in registry.find(text)] == [(agency, spelling)]


@pytest.mark.parametrize("text", ["연합뉴스TV 보도", "MBC뉴스10", "共同声明を発表", "時事問題", "Reutersville", "AP-NORC poll",
                                  "the MENA region", "Kaynak: AA", "Anadolu Yakası", "the lusa community",
                                  "orang bernama Ali", "di antara mereka"])
def test_no_strong_name_in(registry, text):
    assert list(registry.find(text)) == []


@pytest.mark.parametrize("text, agency", [
    ("Москва. /ТАСС/", "TASS"), ("сообщает Интерфакс", "Interfax"), ("(أ ش أ)", "MENA"), ("(د ب أ)", "dpa"),
    ("وكالة الأنباء السعودية", "SPA"), ("Kaynak: Anadolu Ajansı", "Anadolu"), ("ΑΠΕ-ΜΠΕ", "ANA-MPA"),
    ("Zdroj: ČTK", "CTK"), ("(PTI) पीटीआई", "PTI"),
])
def test_other_scripts_keep_word_boundaries_and_match(registry, text, agency):
    assert {a for a, _ in registry.find(text)} == {agency}


# ---------------------------------------------------------------------------------------- weak codes
@pytest.mark.parametrize("spelling, agency", [
    ("AA", "Anadolu"), ("Anadolu", "Anadolu"), ("CP", "CP"), ("MAP", "MAP"), ("SPA", "SPA"), ("MENA", "MENA"),
    ("STA", "STA"), ("NAN", "NAN"), ("APS", "APS"), ("CNA", "CNA"), ("ANP", "ANP"), ("ats", "SDA"), ("ATS", "SDA"),
    ("Efe", "EFE"), ("Dow Jones", "Dow Jones"), ("共同", "Kyodo"), ("時事", "Jiji"), ("Antara", "Antara"),
])
def test_weak_codes_are_weak_and_still_canonical(registry, spelling, agency):
    assert registry.is_weak(spelling)
    assert registry.canonical(spelling) == agency


@pytest.mark.parametrize("spelling", ["AP", "EFE", "ANTARA", "Anadolu Ajansı", "Associated Press", "dpa", "sda",
                                      "新华社", "nobody", "", None, "aa", "Map"])
def test_strong_or_unknown_spellings_are_not_weak(registry, spelling):
    assert not registry.is_weak(spelling)


def test_canonical_can_refuse_weak_codes(registry):
    assert registry.canonical("AA", weak=False) is None and registry.canonical("Dow Jones", weak=False) is None
    assert registry.canonical("Anadolu Ajansı", weak=False) == "Anadolu" and registry.canonical("EFE", weak=False) == "EFE"


def test_weak_codes_are_case_sensitive_like_codes(registry):
    assert registry.canonical("aa") is None and registry.canonical("Map") is None and registry.canonical("cp") is None


def test_weak_codes_only_in_templates_that_ask_for_them(registry):
    assert registry.compile(r"^Kaynak:\s*{name}$").match("Kaynak: AA") is None
    assert registry.compile(r"^Kaynak:\s*{any_name}$").match("Kaynak: AA")
    assert registry.compile(r"^\({weak_name}\)$").match("(MAP)")
    assert registry.compile(r"^\({weak_name}\)$").match("(AP)") is None
    assert [(a, m.group(0)) for a, m in registry.find("APA/ats/AA", weak=True)] == [
        ("APA", "APA"), ("SDA", "ats"), ("Anadolu", "AA")]


def test_cleaner_builds_on_the_strong_names(registry):
    cleaner = LineCleaner.for_registry(registry)
    for line in ("(Belga)", "SDA/sep", "— Xinhua", "Source: Anadolu Agency", "Agenturen"):
        assert cleaner.is_boilerplate(line), line
    for line in ("AA", "MAP", "Ein Artikel über die Agenturen und ihre Kunden, die seit Jahren wachsen."):
        assert not cleaner.is_boilerplate(line), line


# ------------------------------------------------------------------------------------ native datelines
@pytest.mark.parametrize("line, agency", [
    ("新华社北京4月24日电（记者张三）", "Xinhua"), ("新华社华盛顿11月29日电", "Xinhua"), ("新華社東京24日電", "Xinhua"),
    ("【6月18日 AFP】ナイジェリア", "AFP"), ("【パリAFP＝時事】", "AFP"), ("【ワシントン共同】", "Kyodo"), ("【共同】", "Kyodo"),
    ("【ワシントン時事】", "Jiji"), ("(서울=연합뉴스) 홍길동 기자 =", "Yonhap"), ("【ソウル聯合ニュース】", "Yonhap"),
    ("(세종=뉴시스)", "Newsis"), ("(서울=뉴스1) 김기자", "News1"), ("МОСКВА, 24 апреля. /ТАСС/.", "TASS"),
    ("MOSCOW, April 24. /TASS/.", "TASS"), ("МОСКВА, 24 апр — РИА Новости.", "RIA"),
    ("Москва. 24 апреля. INTERFAX.RU - Президент", "Interfax"), ("（中央社記者王小明台北24日電）", "CNA"),
    ("（法新社巴黎24日電）", "AFP"), ("路透社伦敦4月24日电", "Reuters"), ("【ワシントンAFP時事】", "AFP"),
    ("中新社北京4月24日电", "China News Service"),
])
def test_dateline_patterns(registry, line, agency):
    assert [a for p, a in registry.dateline_patterns if p.match(line)] == [agency]


@pytest.mark.parametrize("line", ["新华社记者 张三 摄", "据新华社报道，北京4月24日电", "【ソウル＝共同】", "共同通信によると",
                                  "(서울=연합뉴스TV)", "Фото: ТАСС", "本报北京4月24日电", "(워싱턴 AP=연합뉴스)",
                                  "(베이징 신화=연합뉴스)", "(워싱턴=AP/뉴시스)"])
def test_dateline_patterns_negatives(registry, line):
    assert [a for p, a in registry.dateline_patterns if p.match(line)] == []
