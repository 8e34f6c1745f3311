"""Word counts in every script: CJK characters count one each, spaced scripts by their words."""
import pytest

from transforms.util.text import count_words


@pytest.mark.parametrize("text, words", [
    ("", 0), ("The quick brown fox.", 4), ("Der Minister sagte: „Nein“ – 2024.", 5),
    ("文化庁は１日、アート", 9), ("新华社北京4月24日电", 10), ("장동혁 국민의힘 대표가", 3),
    ("AFP通信によると、", 1 + 6), ("Москва, 5 мая", 3),
])
def test_count_words(text, words):
    assert count_words(text) == words


def test_a_japanese_paragraph_is_not_one_word():
    paragraph = ("政府は二十四日、来週も協議を続ける方針を明らかにした。"
                 "関係者によると、双方は合意に向けて調整を進めている。")
    assert count_words(paragraph) > 40
    assert len(paragraph.split()) == 1
