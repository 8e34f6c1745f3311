"""Pages whose article is drawn by JavaScript from script data: the story is read from that data."""
import json

import pytest

from tests.support.corpus import CORPUS
from transforms.extract.decode import decode_html
from transforms.extract.embedded import embedded_article_html
from transforms.extract.html import parse
from transforms.extract.page import extract_page
from transforms.util.text import count_words

STORY = ["첫 번째 문단입니다. 정부는 다음 주에도 협상을 계속할 방침이라고 밝혔다." * 2,
         "두 번째 문단입니다. 관계자들은 합의를 위해 조율 중이라고 전했다." * 2,
         "세 번째 문단입니다. 야당은 이에 대해 반발했다." * 2]


def page(script: str) -> str:
    return f"<html><head><title>t</title></head><body><div id='root'></div><script>{script}</script></body></html>"


def test_story_html_in_hydration_json_is_found():
    data = {"article": {"title": "제목", "content": "".join(f"<p>{p}</p>" for p in STORY)}, "nav": "<a>x</a>"}
    html = page("window.__STATE__ = " + json.dumps(data) + ";")
    fragment = embedded_article_html(parse(html))
    assert fragment and all(p in fragment for p in STORY)
    meta = extract_page(html, "http://outlet.example/a")
    assert [line for line in meta.raw_lines if "문단" in line] == STORY


def test_double_encoded_next_data_is_decoded():
    inner = json.dumps({"content": "".join(f"<p>{p}</p>" for p in STORY)})
    html = page("self.__next_f.push([1, " + json.dumps(inner) + "]);")
    assert STORY[0] in embedded_article_html(parse(html))


@pytest.mark.parametrize("script", [
    "var x = 1;",
    "window.__STATE__ = " + json.dumps({"teaser": "<p>one</p>", "other": "<p>two</p>"}) + ";",
    "window.__STATE__ = " + json.dumps({"blob": json.dumps({"a": "<p>1</p><p>2</p><p>3</p>"})}) + ";",
])
def test_scripts_without_an_article_give_nothing(script):
    assert embedded_article_html(parse(page(script))) is None


def test_real_script_drawn_korean_page_is_not_lost():
    path = CORPUS / "news" / "fundus" / "kr" / "HankookIlbo_2026_01_29.html.gz"
    if not path.exists():
        pytest.skip("corpus not available")
    import gzip

    html = decode_html(gzip.decompress(path.read_bytes()), None, "text/html")
    meta = extract_page(html, "https://www.hankookilbo.com/news/article/A2026012914320005196")
    assert count_words("\n".join(meta.raw_lines)) > 300
    assert any("한동훈" in line for line in meta.raw_lines)
