"""Credit forms of real pages, in many languages and scripts: what credits an agency and what does not."""
import pytest

from transforms.tag.registry import AgencyRegistry
from transforms.tag.rules import tag_agency

EN = "The minister said the talks would continue next week, officials confirmed on Tuesday."
DE = "Der Minister sagte, die Gespräche würden in der kommenden Woche fortgesetzt, bestätigten Beamte am Dienstag."
FR = ("Le ministre a déclaré que les discussions se poursuivraient la semaine prochaine, "
      "ont confirmé mardi des responsables.")
ES = "El ministro dijo que las conversaciones continuarán la próxima semana, confirmaron el martes las autoridades."
TR = "Bakan, görüşmelerin gelecek hafta devam edeceğini söyledi ve yetkililer salı günü bunu doğruladı."
JA = "政府は二十四日、来週も協議を続ける方針を明らかにした。関係者によると、双方は合意に向けて調整を進めている。"
ZH = "外交部发言人二十四日表示，双方将于下周继续举行会谈，有关方面正在就协议文本进行磋商。"
KO = "정부는 24일 다음 주에도 협상을 계속할 방침이라고 밝혔으며 관계자들은 합의를 위해 조율 중이라고 전했다."


@pytest.fixture(scope="module")
def registry():
    return AgencyRegistry.default()


def tag(registry, raw=(), removed=(), url=None, **signals):
    return tag_agency(list(raw), list(removed), signals, registry, url=url)


# ------------------------------------------------------------------------------------ the agency's own site
@pytest.mark.parametrize("url, agency", [
    ("https://apnews.com/article/abc", "AP"), ("https://www.reuters.com/world/x", "Reuters"),
    ("https://www.afpbb.com/articles/-/3229393", "AFP"), ("https://www.aa.com.tr/tr/dunya/x", "Anadolu"),
    ("https://en.yna.co.kr/view/AEN2019", "Yonhap"), ("https://www.bloomberg.com/news/articles/x", "Bloomberg"),
])
def test_agency_own_site(registry, url, agency):
    got, evidence = tag(registry, [EN], url=url)
    assert got == agency
    assert evidence[0]["kind"] == "own_site"


@pytest.mark.parametrize("url", ["https://notapnews.com/a", "https://www.wsj.com/articles/x", "https://outlet.example/a"])
def test_other_sites_are_not_agencies(registry, url):
    assert tag(registry, [EN], url=url) == (None, [])


# -------------------------------------------------------------------------------------- datelines by script
@pytest.mark.parametrize("lead, agency", [
    ("Berlin (dpa) - " + DE, "dpa"),
    ("PARIS (AFP) - " + FR, "AFP"),
    ("MADRID, 5 (EUROPA PRESS).- " + ES, "Europa Press"),
    ("ANKARA (AA) - " + TR, "Anadolu"),
    ("【6月18日 AFP】" + JA, "AFP"),
    ("【ワシントン共同】" + JA, "Kyodo"),
    ("新华社北京4月24日电 " + ZH, "Xinhua"),
    ("(서울=연합뉴스) " + KO, "Yonhap"),
])
def test_datelines_in_many_languages(registry, lead, agency):
    got, evidence = tag(registry, [lead, EN])
    assert got == agency
    assert evidence[0]["kind"] == "dateline"


@pytest.mark.parametrize("lead", [
    "Die Regierung (dpa-Umfrage) zeigt: " + DE,        # a mention inside a sentence
    "Según la agencia (EFE), " + ES,                   # lower-case sentence, not a place
    "Başbakan AA muhabirine konuştu. " + TR,            # a weak code in running text
    "共同声明によると、" + JA,                            # 共同 as an ordinary word, not Kyodo's dateline
    "新华社报道称，" + ZH,                                # "Xinhua reported" is a mention, not a dateline
    "연합뉴스 보도에 따르면 " + KO,                         # "according to Yonhap" is a mention
])
def test_mentions_in_leads_are_not_datelines(registry, lead):
    assert tag(registry, [lead, EN])[0] is None


# ---------------------------------------------------------------------- trailers, initials, several agencies
@pytest.mark.parametrize("line, agency, others", [
    ("SDA/sep", "SDA", []), ("sak/Reuters", "Reuters", []), ("Quelle: ntv.de, ino/dpa", "dpa", []),
    ("(Quelle: APA/sda/dpa)", "APA", ["SDA", "dpa"]), ("Quelle: sid/dpa", "SID", ["dpa"]),
    ("Bron: BELGA", "Belga", []), ("Kaynak: AA", "Anadolu", []), ("Fuente: EFE", "EFE", []),
    ("来源：新华网", "Xinhua", []), ("AFP/Reuters", "AFP", ["Reuters"]),
])
def test_trailers_with_initials_and_several_agencies(registry, line, agency, others):
    got, evidence = tag(registry, [DE, line])
    assert got == agency
    assert [e["agency"] for e in evidence if e["kind"] == "co_credit"] == others


@pytest.mark.parametrize("line", [
    "AA", "MAP", "Foto: dpa", "Quelle: AFP Foto", "Bildrechte: picture alliance/dpa", "© REUTERS / POOL",
    "sak/xyz", "Kaynak: Sabah gazetesi",
])
def test_non_credit_trailers(registry, line):
    assert tag(registry, [DE, line])[0] is None


# ---------------------------------------------------------------------------------------------- bylines
@pytest.mark.parametrize("byline, agency", [
    ("Von dpa", "dpa"), ("von APA", "APA"), ("Par Le Figaro et AFP", "AFP"), ("Adam Vidler and AP", "AP"),
    ("Associated Press in Valencia", "AP"), ("Reuters, Thorsten Kramer", "Reuters"),
    ("Tom Krisher, AP Auto Writer", "AP"), ("Haberler - Anadolu Ajansı", "Anadolu"),
    ("Por Agencia EFE", "EFE"), ("연합뉴스", "Yonhap"),
])
def test_agency_bylines(registry, byline, agency):
    got, evidence = tag(registry, [EN], bylines=[byline])
    assert got == agency
    assert evidence[0]["kind"] == "byline"


@pytest.mark.parametrize("byline, agency", [
    ("Par Le Figaro avec AFP", "AFP"), ("Von Anna Schmidt mit dpa", "dpa"), ("By Jane Doe with AP", "AP"),
    ("Por María López con EFE", "EFE"),
])
def test_joint_bylines_with_an_agency_are_contributions(registry, byline, agency):
    got, evidence = tag(registry, [EN], bylines=[byline])
    assert got is None
    assert {"agency": agency, "kind": "contribution", "text": byline} in evidence


@pytest.mark.parametrize("line, agency", [
    ("The Associated Press contributed to this report.", "AP"),
    ("With files from The Canadian Press", "CP"),
    ("Additional reporting by Reuters", "Reuters"),
    ("Mit Material von dpa", "dpa"),
    ("Con información de EFE", "EFE"),
    ("Avec l'AFP", "AFP"),
])
def test_contributions_are_evidence_not_the_agency(registry, line, agency):
    got, evidence = tag(registry, [EN, line], bylines=["By Jane Doe"])
    assert got is None
    assert any(e["kind"] == "contribution" and e["agency"] == agency for e in evidence)


def test_contribution_does_not_undo_an_agency_story(registry):
    got, _ = tag(registry, ["WASHINGTON (AP) — " + EN, "Associated Press writer Jane Roe contributed to this report."])
    assert got == "AP"


def test_bare_agency_on_a_staff_story_with_contribution_is_a_photo_credit(registry):
    page = ["Headline of the staff story", "| FoxNews.com", "AP", EN, EN + " More.",
            "The Associated Press contributed to this report."]
    got, _ = tag(registry, [EN, EN + " More.", "The Associated Press contributed to this report."],
                 page_lines=page, bylines=["| FoxNews.com", "AP"])
    assert got is None


def test_agency_byline_with_its_own_trailer_stays_the_agency(registry):
    got, _ = tag(registry, [EN, "With reporting by Associated Press writer Sheikh Saaliq"],
                 bylines=["The Associated Press"])
    assert got == "AP"


# -------------------------------------------------------------------------------------- generic credits
@pytest.mark.parametrize("line", ["red, ORF.at/Agenturen", "(with inputs from Agencies)", "Mit Agenturmaterial."])
def test_generic_credits_are_agencies(registry, line):
    got, evidence = tag(registry, [DE, line])
    assert got == "Agencies"
    assert evidence


# ----------------------------------------------------------------------------- teasers and sidebars
def test_bylines_of_teasers_far_from_the_story_do_not_count(registry):
    body = [EN, EN + " Second paragraph of the story, long enough to anchor.", EN + " Third."]
    page = ["Staff story headline", "By JERUSALEM POST STAFF", *body, "Latest news", "Some other headline",
            "By REUTERS", "Another headline", "By REUTERS"]
    got, _ = tag(registry, body, page_lines=page, bylines=["By JERUSALEM POST STAFF", "By REUTERS"])
    assert got is None


def test_copyright_and_structured_author(registry):
    assert tag(registry, [JA, "(c)AFP/Aminu ABUBAKAR"])[0] is None  # a photographer's credit
    assert tag(registry, [EN, "© 2026 The Canadian Press"])[0] == "CP"
    assert tag(registry, [ZH], structured_authors=["新华社"])[0] == "Xinhua"
    assert tag(registry, [KO], structured_authors=["Yonhap News Agency"])[0] == "Yonhap"


@pytest.mark.parametrize("raw", [
    [FR, "« Nous poursuivrons », a indiqué le ministre à l'AFP."],
    [ES, "El portavoz confirmó a EFE que la reunión se celebrará."],
    [JA, "AFP通信によると、首脳会談は来週開かれる見通しだ。"],
    [ZH, "据新华社报道，会谈将于下周举行。"],
    [KO, "사진=연합뉴스", KO],
    [TR, "Fotoğraf: AA"],
    [DE, "Foto: dpa/Michael Kappeler"],
])
def test_mentions_and_photo_credits_in_other_languages(registry, raw):
    assert tag(registry, raw, caption_lines=[raw[-1]] if len(raw[-1]) < 30 else [])[0] is None


def test_named_agency_inputs_on_a_staff_ticker_are_contributions(registry):
    line = ("Mit Informationen der ARD-Korrespondentinnen und -Korrespondenten sowie der Nachrichtenagenturen "
            "AFP, AP, dpa, KNA und Reuters.")
    got, evidence = tag(registry, [DE, line])
    assert got is None
    assert [e["agency"] for e in evidence if e["kind"] == "contribution"] == ["AFP", "AP", "dpa", "KNA", "Reuters"]


@pytest.mark.parametrize("line", [
    "With Post wires", "Detroit News wire services", "Edited by A. Writer (with inputs from Agencies)"])
def test_unnamed_wires_are_agencies(registry, line):
    assert tag(registry, [EN, line])[0] == "Agencies"


def test_weak_code_in_a_contribution_and_full_width_credits(registry):
    got, evidence = tag(registry, [EN, "Additional reporting from PA"], bylines=["By Michael Hincks"])
    assert got is None
    assert {"agency": "PA Media", "kind": "contribution", "text": "Additional reporting from PA"} in evidence
    assert tag(registry, ["【ワシントン＝ＡＰ】" + JA, JA])[0] == "AP"
    assert tag(registry, [JA, JA + "（ＡＦＰ）"])[0] == "AFP"


@pytest.mark.parametrize("line, agency", [
    ("This report by The Canadian Press was first published May 8, 2025.", "CP"),
    ("This story was originally published by Reuters.", "Reuters"),
])
def test_published_by_trailers(registry, line, agency):
    got, evidence = tag(registry, [EN, line])
    assert got == agency and evidence[0]["kind"] == "credit_line"


@pytest.mark.parametrize("byline, agency", [("Reuters Staff", "Reuters"), ("AFP Newsroom", "AFP")])
def test_agency_staff_bylines(registry, byline, agency):
    assert tag(registry, [EN], bylines=[byline])[0] == agency


def test_a_published_by_sentence_inside_the_story_is_a_mention(registry):
    line = "The study, which Reuters first published on Monday, found that prices rose."
    assert tag(registry, [EN, line])[0] is None
