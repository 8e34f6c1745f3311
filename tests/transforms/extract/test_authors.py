"""Tests for author reading (transforms.extract.authors) on small pages written for the rule they test."""
from transforms.extract.page import extract_page

BODY = "<p>" + "The council met on Tuesday and voted to repair the old bridge before winter comes. " * 3 + "</p>"
URL = "https://towncrier.example/a"


def _authors(head: str = "", byline: str = "") -> list[str]:
    html = f"<html><head>{head}</head><body>{byline}<article>{BODY}</article></body></html>"
    return extract_page(html, URL).authors


def _ld(obj: str) -> str:
    return f'<script type="application/ld+json">{obj}</script>'


def test_a_json_ld_person_given_only_by_given_and_family_name():
    ld = _ld('{"@type": "NewsArticle", "author": [{"@type": "Person", "givenName": "Anna Giulia", '
             '"familyName": "Fink"}, {"@type": "Person", "name": "Jo Berg", "givenName": "Johanna"}]}')
    assert _authors(ld) == ["Anna Giulia Fink", "Jo Berg"]


def test_a_role_after_a_comma_leaves_the_name_but_two_short_names_stay_two():
    ld = _ld('{"@type": "NewsArticle", "author": {"name": "Povilas Aleksandravicius, professor of the faculty '
             'of human and social studies at the university, Site.lt"}}')
    assert _authors(ld) == ["Povilas Aleksandravicius"]
    assert _authors('<meta name="author" content="Ann Smith, Bob Jones">') == ["Ann Smith", "Bob Jones"]


def test_a_caption_credit_in_an_author_tag_goes_whole():
    head = '<meta name="author" content="Emma Mackenzie"><meta name="author" content="(Image: Getty Images/iStock)">'
    assert _authors(head) == ["Emma Mackenzie"]


def test_a_byline_row_gives_its_names_and_leaves_role_outlet_date_and_links():
    row = ('<div class="byline">By <span>Howard Blume</span><span>Staff Writer</span><time>Dec. 16, 2016</time>'
           '<a>Facebook</a><a>Twitter</a></div>')
    assert _authors(byline=row) == ["Howard Blume"]
    glued = '<div class="article_byline"><div>By <span>Joe Davidson</span></div><div>Washington Post</div></div>'
    assert _authors(byline=glued) == ["Joe Davidson"]
    slashed = '<div class="byline"><a>Saibal Dasgupta</a> / TNN / <span>Updated: Oct 9, 2019</span></div>'
    assert _authors(byline=slashed) == ["Saibal Dasgupta"]


def test_names_joined_by_and_or_commas_across_elements_all_count():
    row = '<p class="byline">By <a>Ann Smith</a>, <a>Bob Jones</a> and <a>Cy Young</a></p>'
    assert _authors(byline=row) == ["Ann Smith", "Bob Jones", "Cy Young"]
    linked = '<div><a rel="author" href="/a">Julia Carrie Wong</a> and <a rel="author" href="/b">Sam Levin</a></div>'
    assert _authors(byline=linked) == ["Julia Carrie Wong", "Sam Levin"]


def test_an_agency_or_staff_credit_first_in_the_byline_is_the_whole_byline():
    assert _authors(byline='<div class="byline"><span>IANS</span> | <span>New Delhi</span></div>') == ["IANS"]
    assert _authors(byline='<div class="byline">Reuters, Miami, 12 May 2020</div>') == ["Reuters"]
    assert _authors(byline='<div class="author">The Associated Press</div>') == ["The Associated Press"]


def test_prose_and_comment_posters_are_not_bylines():
    prose = '<h4 class="author">The Russian and Syrian defense ministries</h4>'
    assert _authors(byline=prose) == []
    comments = '<span class="comment-author">Kaffeetrinker</span><span class="sf_comment_author">Casper Doe</span>'
    assert _authors(byline=comments) == []


def test_schema_marked_author_inside_a_byline_row_beats_the_source_name_beside_it():
    row = ('<div class="authorinfo"><a>Tech Insider</a><span itemprop="author"><span itemprop="name">Alex Perry'
           '</span></span><time>1 day ago</time></div>')
    assert _authors(byline=row) == ["Alex Perry"]


def test_a_head_crediting_only_the_outlet_yields_to_a_person_in_the_byline_but_an_agency_stays():
    head = '<meta property="og:site_name" content="Town Crier"><meta name="author" content="Town Crier">'
    row = '<div class="authors"><span>von</span> <span>Jemima Kelly</span></div>'
    assert _authors(head, row) == ["Jemima Kelly"]
    agency = _ld('{"@type": "NewsArticle", "author": {"@type": "Organization", "name": "dpa"}}')
    assert _authors(agency, row) == ["dpa"]
    assert _authors(head, '<div class="authors">Town Crier</div>') == ["Town Crier"]
