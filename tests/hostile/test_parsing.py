"""Issue 5, parsing: XML attacks, pages that are not feeds, lying charsets, odd entries, pages with no article.

One pipeline run (and its rerun) through a local forward proxy; each test reads its outcome.
"""
from __future__ import annotations

import pytest

from tests.hostile.web import FAST, article_html, article_text, check_balanced, rss, table, two_runs
from tests.support.hostile_server import HostileServer, respond

F = "http://feeds.example/"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}

LAUGHS = ('<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
          + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10}">\n' for i in range(1, 10))
          + "]>\n")
QUADRATIC = '<!DOCTYPE rss [\n<!ENTITY a "' + "a" * 20000 + '">\n]>\n'
XXE_FILE = '<!DOCTYPE rss [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n'
XXE_HTTP = '<!DOCTYPE rss [\n<!ENTITY x SYSTEM "http://dtd.example/evil.ent">\n]>\n'
PARAM_HTTP = '<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "http://dtd.example/p.dtd">\n%p;\n]>\n'
EXTERNAL_DTD = '<!DOCTYPE rss SYSTEM "http://dtd.example/rss.dtd">\n'
HARMLESS_ENTITY = '<!DOCTYPE rss [\n<!ENTITY site "Harmless Herald">\n]>\n'

LOGIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=/login method=post>"
              b"<input name=user><input type=password name=pw><button>Sign in</button></form></body></html>")

RU = ("Правительство объявило о новом бюджете на следующий год. Министр финансов заявил журналистам, "
      "что расходы на здравоохранение и образование вырастут. Депутаты обсудят проект в парламенте.")
FR = ("Le café du port était fermé à cause de la grève générale des employés municipaux. "
      "Les élus ont annoncé une réunion extraordinaire jeudi soir à la mairie.")


def _attack_feed(prolog: str, title: str) -> bytes:
    # The title goes in raw, so its entity references are real references.
    item = f"<item><title>{title}</title><link>http://pages.example/attack</link></item>"
    return rss([item], prolog=prolog)


def _text(seed: str, extra: str) -> str:
    return extra + "\n\n" + article_text(seed, 90)


def _routes() -> dict:
    r: dict = {}
    # 10. XML attacks.
    r[F + "laughs.xml"] = respond(200, _attack_feed(LAUGHS, "&lol9;"), RSS)
    r[F + "quadratic.xml"] = respond(200, _attack_feed(QUADRATIC, "&a;" * 5000), RSS)
    r[F + "xxe-file.xml"] = respond(200, _attack_feed(XXE_FILE, "leak &x;"), RSS)
    r[F + "xxe-http.xml"] = respond(200, _attack_feed(XXE_HTTP, "leak &x;"), RSS)
    r[F + "param-http.xml"] = respond(200, _attack_feed(PARAM_HTTP, "param"), RSS)
    r[F + "external-dtd.xml"] = respond(200, rss([{"title": "dtd ok", "link": "http://pages.example/dtd-ok"}],
                                                 prolog=EXTERNAL_DTD), RSS)
    r[F + "harmless-entity.xml"] = respond(200, rss([{"title": "From &site;", "link": "http://pages.example/ent"}],
                                                    prolog=HARMLESS_ENTITY), RSS)
    r["http://dtd.example/evil.ent"] = respond(200, b"pwned")
    r["http://dtd.example/p.dtd"] = respond(200, b'<!ENTITY x "pwned">')
    r["http://dtd.example/rss.dtd"] = respond(200, b"")
    # 11. an HTML login page where a feed should be (both honest and lying content types).
    r[F + "login-as-rss.xml"] = respond(200, LOGIN_PAGE, RSS)
    r[F + "login-as-html"] = respond(200, LOGIN_PAGE, {"Content-Type": "text/html"})
    # 12. charsets: UTF-8 feed labelled windows-1251; cp1252 feed labelled UTF-8; pages likewise.
    # The feeds' pages have no title of their own, so the article title is the feed's.
    ru_feed = rss([{"title": "Бюджет принят", "link": "http://pages.example/untitled-ru",
                    "description": RU}]).replace(b'encoding="utf-8"', b'encoding="windows-1251"')
    r[F + "ru-lying.xml"] = respond(200, ru_feed, {"Content-Type": "application/rss+xml; charset=windows-1251"})
    fr_feed = rss([{"title": "Grève au café", "link": "http://pages.example/untitled-fr",
                    "description": FR}]).decode().encode("cp1252")
    r[F + "fr-lying.xml"] = respond(200, fr_feed, {"Content-Type": "application/rss+xml; charset=utf-8"})
    for lang in ("ru", "fr"):
        paras = "".join(f"<p>{p}</p>" for p in article_text("untitled-" + lang, 120).split("\n\n"))
        r[f"http://pages.example/untitled-{lang}"] = respond(
            200, f"<html><head><meta charset=utf-8></head><body><div>{paras}</div></body></html>".encode(), HTML)
    r["http://pages.example/ru-utf8-labelled-1251"] = respond(
        200, article_html("Бюджет принят", body_text=_text("ru", RU), charset=None).encode("utf-8"),
        {"Content-Type": "text/html; charset=windows-1251"})
    r["http://pages.example/ru-cp1251-unlabelled"] = respond(
        200, article_html("Бюджет принят в Москве", body_text=_text("ru2", RU), charset=None).encode("cp1251"),
        {"Content-Type": "text/html"})
    r["http://pages.example/fr-cp1252-labelled-utf8"] = respond(
        200, article_html("Grève au café", body_text=_text("fr", FR), charset=None).encode("cp1252"), HTML)
    r["http://pages.example/fr-latin1-meta"] = respond(
        200, article_html("Grève à la mairie", body_text=_text("fr2", FR), charset="iso-8859-1").encode("latin-1"),
        {"Content-Type": "text/html"})
    # Impossible character references (surrogates, past U+10FFFF) made feedparser crash (fuzzing).
    r[F + "impossible-refs.xml"] = respond(200, rss([
        "<item><title>Odd &#xD800; title &#x110000;</title><link>http://pages.example/untitled-refs</link>"
        "<description>x &#55296; y</description></item>"]), RSS)
    paras = "".join(f"<p>{p}</p>" for p in article_text("untitled-refs", 120).split("\n\n"))
    r["http://pages.example/untitled-refs"] = respond(200, f"<html><body><div>{paras}</div></body></html>".encode(),
                                                      HTML)
    # 13. entries: links missing, relative, javascript:, absurdly long; repeated GUIDs; cross-feed repeats.
    r[F + "entries.xml"] = respond(200, rss([
        {"title": "no link", "guid": "no-link-1"},
        {"title": "no link either", "guid": "no-link-2"},
        {"title": "relative", "link": "/relative/story", "guid": "rel"},
        {"title": "js", "link": "javascript:alert(document.cookie)", "guid": "js"},
        {"title": "data", "link": "data:text/html,<script>alert(1)</script>", "guid": "data"},
        {"title": "long", "link": "http://pages.example/" + "a" * 5000, "guid": "long"},
        {"title": "dup guid A", "link": "http://pages.example/dup-guid", "guid": "same-guid"},
        {"title": "dup guid B", "link": "http://pages.example/dup-guid", "guid": "same-guid"},
        {"title": "dup guid other link", "link": "http://pages.example/dup-guid-other", "guid": "same-guid"},
        {"title": "shared", "link": "http://pages.example/shared?utm_source=feed1", "guid": "shared-1"},
    ]), RSS)
    r[F + "entries-2.xml"] = respond(200, rss([
        {"title": "shared again", "link": "http://pages.example/shared", "guid": "shared-2"},
    ]), RSS)
    r["http://feeds.example/relative/story"] = respond(200, article_html("Relative", "rel").encode(), HTML)
    for name in ("dup-guid", "dup-guid-other", "shared", "dtd-ok", "ent"):
        r[f"http://pages.example/{name}"] = respond(200, article_html(f"Page {name}", name).encode(), HTML)
    # 14. pages with no article in them.
    r[F + "unextractable.xml"] = respond(200, rss([
        {"title": t, "link": f"http://pages.example/bad/{t}"}
        for t in ("empty", "binary-as-html", "pdf", "pdf-as-html", "png-as-html", "nav-only", "whitespace")
    ]), RSS)
    r["http://pages.example/bad/empty"] = respond(200, b"", HTML)
    r["http://pages.example/bad/whitespace"] = respond(200, b"   \n\t  \n", HTML)
    r["http://pages.example/bad/binary-as-html"] = respond(200, bytes(range(256)) * 40, HTML)
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
    r["http://pages.example/bad/pdf"] = respond(200, pdf, {"Content-Type": "application/pdf"})
    r["http://pages.example/bad/pdf-as-html"] = respond(200, pdf, HTML)
    r["http://pages.example/bad/png-as-html"] = respond(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, HTML)
    r["http://pages.example/bad/nav-only"] = respond(
        200, b"<html><body><nav><a href=/>Home</a> <a href=/world>World</a></nav></body></html>", HTML)
    return r


FEEDS = ["laughs.xml", "quadratic.xml", "xxe-file.xml", "xxe-http.xml", "param-http.xml", "external-dtd.xml",
         "harmless-entity.xml", "login-as-rss.xml", "login-as-html", "ru-lying.xml", "fr-lying.xml", "entries.xml",
         "entries-2.xml", "unextractable.xml", "impossible-refs.xml"]
EXTRA_PAGES = ["http://pages.example/ru-cp1251-unlabelled", "http://pages.example/fr-latin1-meta",
               "http://pages.example/ru-utf8-labelled-1251", "http://pages.example/fr-cp1252-labelled-utf8"]


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parsed")
    routes = _routes()
    routes[F + "extra.xml"] = respond(200, rss([{"title": u.rsplit("/", 1)[-1], "link": u} for u in EXTRA_PAGES]),
                                      RSS)
    with HostileServer(routes) as proxy:
        runs = two_runs(tmp, [F + f for f in FEEDS + ["extra.xml"]], proxy=proxy.url,
                        settings=FAST.replace(min_body_words=30))
        runs["proxy"] = proxy
        yield runs


@pytest.mark.parametrize("feed", ["laughs.xml", "quadratic.xml", "xxe-file.xml", "xxe-http.xml", "param-http.xml"])
def test_xml_entity_attacks_are_refused_as_xml_attack(parsed, feed):
    assert parsed["dead"][F + feed] == ("read_feeds", "xml_attack")


def test_xml_attacks_fetch_nothing_and_expand_nothing(parsed):
    targets = [r.target for r in parsed["proxy"].requests]
    assert not [t for t in targets if "dtd.example" in t]
    # Nothing from an attack feed reached the warehouse, and nothing anywhere holds the passwd file.
    rows = table(parsed["warehouse"], "SELECT coalesce(title,'') || coalesce(body,'') FROM articles")
    assert not any("root:" in r[0] or "lollol" in r[0] or "aaaaaaaaaa" in r[0] for r in rows)


def test_external_dtd_and_plain_entities_are_harmless(parsed):
    assert "http://pages.example/dtd-ok" in parsed["articles"]
    assert "http://pages.example/ent" in parsed["articles"]


@pytest.mark.parametrize("feed", ["login-as-rss.xml", "login-as-html"])
def test_an_html_login_page_is_not_a_feed(parsed, feed):
    assert parsed["dead"][F + feed] == ("read_feeds", "not_a_feed")


def test_feeds_with_a_lying_charset_are_decoded_correctly(parsed):
    # UTF-8 bytes labelled windows-1251 (header and XML declaration), and cp1252 bytes labelled UTF-8.
    assert parsed["articles"]["http://pages.example/untitled-ru"][0] == "Бюджет принят"
    assert parsed["articles"]["http://pages.example/untitled-fr"][0] == "Grève au café"


def test_impossible_character_references_do_not_lose_the_feed(parsed):
    assert F + "impossible-refs.xml" not in parsed["dead"]
    assert parsed["articles"]["http://pages.example/untitled-refs"][0] == "Odd \ufffd title \ufffd"


def _body(parsed, url):
    return parsed["articles"][url][1]


def test_unlabelled_and_meta_labelled_legacy_pages_are_decoded(parsed):
    assert "Правительство объявило" in _body(parsed, "http://pages.example/ru-cp1251-unlabelled")
    assert "Le café du port était fermé" in _body(parsed, "http://pages.example/fr-latin1-meta")


def test_utf8_page_labelled_windows_1251_is_not_mojibake(parsed):
    assert "Правительство объявило" in _body(parsed, "http://pages.example/ru-utf8-labelled-1251")


def test_cp1252_page_labelled_utf8_is_decoded(parsed):
    assert "Le café du port était fermé" in _body(parsed, "http://pages.example/fr-cp1252-labelled-utf8")


def test_entries_with_bad_links_are_dead_letters_each(parsed):
    rows = table(parsed["warehouse"], f"SELECT error_class, url FROM dead_letters WHERE feed_url = '{F}entries.xml'")
    reasons = sorted(r[0] for r in rows)
    assert reasons == ["bad_link_scheme", "bad_link_scheme", "link_too_long", "missing_link", "missing_link"]
    long_url = [u for c, u in rows if c == "link_too_long"][0]
    assert len(long_url) <= 4096  # capped in the dead letter too


def test_relative_links_resolve_against_the_feed(parsed):
    assert "http://feeds.example/relative/story" in parsed["articles"]


def test_repeated_guids_and_cross_feed_repeats_land_once(parsed):
    counters = parsed["first"]
    # dup-guid listed twice in one feed, "shared" in two feeds (once with a tracking parameter).
    assert counters["read_feeds.skip.repeated_link"] == 2
    assert "http://pages.example/dup-guid" in parsed["articles"]
    assert "http://pages.example/dup-guid-other" in parsed["articles"]  # same guid, different page: kept
    shared = [u for u in parsed["articles"] if u.startswith("http://pages.example/shared")]
    assert len(shared) == 1
    assert parsed["proxy"].hits("http://pages.example/shared") == 1


@pytest.mark.parametrize("name,reasons", [
    ("empty", {"empty_page"}), ("whitespace", {"empty_page"}), ("binary-as-html", {"binary_content"}),
    ("pdf", {"pdf"}), ("pdf-as-html", {"pdf"}), ("png-as-html", {"binary_content"}),
    ("nav-only", {"no_article_text", "empty_page"}),
])
def test_pages_without_an_article_are_dead_letters_not_empty_rows(parsed, name, reasons):
    stage, reason = parsed["dead"][f"http://pages.example/bad/{name}"]
    assert stage in ("extract", "clean") and reason in reasons


def test_no_article_row_is_empty_and_everything_balances(parsed):
    rows = table(parsed["warehouse"], "SELECT url, word_count, body FROM articles")
    assert rows and all(wc and wc >= 30 and body.strip() for _, wc, body in rows)
    assert not any("\ufffd" in body for _, _, body in rows)
    check_balanced(parsed["first"])
    check_balanced(parsed["second"])
    assert parsed["after_second"] == parsed["after_first"]
