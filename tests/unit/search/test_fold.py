"""Folding, query words and snippets: the parts of search that need no catalog."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preservation.search.fold import fold, index_text, query_words, words
from preservation.search.query import date_after
from preservation.search.snippet import make_snippet


@pytest.mark.parametrize(("text", "folded"), [
    ("Hồ sơ", "ho so"), ("Đảng ủy", "dang uy"), ("ĐẢNG ỦY", "dang uy"), ("đường", "duong"),
    ("Nghệ An", "nghe an"), ("Quyết định 123/QĐ-UBND", "quyet dinh 123/qd-ubnd"),
    ("ưu tiên", "uu tien"), ("Thừa Thiên Huế", "thua thien hue"),
])
def test_case_and_vietnamese_diacritics_fold_away(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold(unicodedata.normalize("NFD", text)) == folded  # decomposed input too


def test_query_words_carry_no_search_syntax() -> None:
    assert query_words('"ho so" NEAR(dang* -uy) title:x (") ') == [
        "ho", "so", "near", "dang", "uy", "title", "x"]
    assert query_words("") == [] and query_words("  \"*-:()") == []
    assert query_words("a " * 100) == ["a"]
    assert len(query_words(" ".join(f"w{i}" for i in range(50)))) == 12


def test_index_text_is_plain_words() -> None:
    assert index_text("Số 12/QĐ-UBND", None, "", "Đảng ủy xã") == "so 12 qd ubnd dang uy xa"


@given(st.text())
def test_folding_is_idempotent_and_words_are_plain(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    for w in words(text):
        assert w and w == fold(w) and not any(c in w for c in ' "*:-()_')


def test_snippet_keeps_the_original_text_and_marks_the_words() -> None:
    text = ("Hồ sơ về việc phê duyệt quy hoạch sử dụng đất của Đảng ủy xã Nghi Phong, huyện "
            "Nghi Lộc, tỉnh Nghệ An, giai đoạn 2021–2030; gồm tờ trình, quyết định và bản đồ. ") * 3
    snippet = make_snippet(text, ["dang", "uy"])
    assert len(snippet.text) <= 162 and "Đảng ủy" in snippet.text
    marked = [snippet.text[a:b] for a, b in snippet.highlights]
    assert marked[:2] == ["Đảng", "ủy"]
    assert make_snippet("Đảng ủy", ["dan"]).highlights == []  # whole words only


@given(st.text(min_size=1, max_size=300), st.lists(st.sampled_from(["a", "dang", "o", "1"])))
def test_snippet_highlights_fold_to_query_words(text: str, ws: list[str]) -> None:
    snippet = make_snippet(text, ws)
    for a, b in snippet.highlights:
        assert fold(snippet.text[a:b]) in ws


@pytest.mark.parametrize(("prefix", "after"), [
    ("2020", "2021"), ("2020-12", "2021-01"), ("2020-05", "2020-06"),
    ("2020-02-29", "2020-03-01"), ("2020-12-31", "2021-01-01")])
def test_the_end_of_a_period(prefix: str, after: str) -> None:
    assert date_after(prefix) == after
