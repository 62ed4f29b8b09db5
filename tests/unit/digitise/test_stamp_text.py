"""What the digitising archive's signature shows (TT 05 Điều 8): name and +07:00 time."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata

from fontTools.ttLib import TTFont

from ingest.digitise.pdf import DEFAULT_FONT
from ingest.digitise.stamp_sign import (
    FONT_SIZE,
    agency_name_problem,
    font_1000_upem,
    stamp_box,
    stamp_text,
    text_width,
)

NAME = "Trung tâm Lưu trữ lịch sử tỉnh Đắk Lắk"


def test_the_time_is_iso_8601_in_the_vietnam_offset_to_the_second():
    at = dt.datetime(2026, 12, 7, 20, 15, 42, 987000, tzinfo=dt.UTC)
    assert stamp_text(NAME, at).signed_at == "2026-12-08T03:15:42+07:00"


def test_a_decomposed_name_is_shown_precomposed():
    decomposed = unicodedata.normalize("NFD", NAME)
    assert decomposed != NAME
    text = stamp_text("  " + decomposed + " ", dt.datetime.now(dt.UTC))
    assert text.agency_name == NAME


def test_names_the_font_can_show_pass_and_others_say_why():
    assert agency_name_problem(NAME, DEFAULT_FONT) is None
    assert agency_name_problem("   ", DEFAULT_FONT)[1] == "the name is empty"
    assert "control" in agency_name_problem("Sở\nNội vụ", DEFAULT_FONT)[1]
    vi, en = agency_name_problem("Lưu trữ 文書館", DEFAULT_FONT)
    assert "文" in vi and "書" in en
    assert "200" in agency_name_problem("A" * 201, DEFAULT_FONT)[1]


LETTERS = "ăâđêôơưáàảãạắặấậéẹếệíịóọốộớợúụứựýỵĐƯƠW+:-0123456789"


def test_the_embedded_font_keeps_the_letters_shown_rescaled_to_1000_units():
    original = TTFont(str(DEFAULT_FONT))
    scaled = TTFont(io.BytesIO(font_1000_upem(str(DEFAULT_FONT), LETTERS)))
    assert original["head"].unitsPerEm == 2048 and scaled["head"].unitsPerEm == 1000
    cmap = scaled.getBestCmap()
    assert set(cmap) == {ord(c) for c in LETTERS}
    # advance widths scale with the em: the same text measures the same in points
    glyph = cmap[ord("W")]
    assert abs(scaled["hmtx"][glyph][0] / 1000 - original["hmtx"][glyph][0] / 2048) < 0.002


def test_the_box_sits_at_the_top_right_and_fits_10_pt_text():
    text = stamp_text(NAME, dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
    x0, y0, x1, y1 = stamp_box((0, 0, 595.44, 841.68), text, DEFAULT_FONT)
    assert x1 > 560 and y1 > 815  # within 36 pt of the top right corner
    assert x1 - x0 >= text_width(NAME, DEFAULT_FONT) and y1 - y0 >= 2 * FONT_SIZE
    assert x0 > 595.44 / 3  # a stamp, not a banner across the page
