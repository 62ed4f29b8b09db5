from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preservation.errors import KhosoError
from preservation.metadata.dates import TTDate, is_iso


def test_parse_forms() -> None:
    assert TTDate.parse("28/12/2001") == TTDate(2001, 12, 28)
    assert TTDate.parse("2/1/2001") == TTDate(2001, 1, 2)
    assert TTDate.parse("2001-12-28") == TTDate(2001, 12, 28)
    assert TTDate.parse("12/2001", allow_partial=True) == TTDate(2001, 12)
    assert TTDate.parse(" 2001 ", allow_partial=True).precision == "year"
    assert is_iso("2001-12-28") and not is_iso("28/12/2001")


@pytest.mark.parametrize(
    ("text", "partial", "code"),
    [
        ("31/02/2001", False, "DATE002"),
        ("29/02/2001", False, "DATE002"),
        ("13/2001", True, "DATE002"),
        ("2001-02-30", False, "DATE002"),
        ("12/2001", False, "DATE003"),
        ("2001", False, "DATE003"),
        ("28.12.2001", True, "DATE001"),
        ("", True, "DATE001"),
        ("00/00/0000", True, "DATE001"),
    ],
)
def test_parse_refuses(text: str, partial: bool, code: str) -> None:
    with pytest.raises(KhosoError) as info:
        TTDate.parse(text, allow_partial=partial)
    assert info.value.code == code


def test_leap_day_and_bounds() -> None:
    d = TTDate.parse("29/02/2000")
    assert d.first_day() == d.last_day() == dt.date(2000, 2, 29)
    assert TTDate(2001, 2).last_day() == dt.date(2001, 2, 28)
    assert TTDate(2001).first_day() == dt.date(2001, 1, 1)
    assert TTDate(2001).last_day() == dt.date(2001, 12, 31)


def test_ordering_and_format() -> None:
    assert TTDate(2001) < TTDate(2001, 1) < TTDate(2001, 1, 1) < TTDate(2001, 2)
    assert sorted([TTDate(2002), TTDate(2001, 5, 3)]) == [TTDate(2001, 5, 3), TTDate(2002)]
    assert TTDate(2001, 1, 2).format() == "02/01/2001" and str(TTDate(2001, 3)) == "03/2001"


dates = st.dates(min_value=dt.date(1, 1, 1))
tt_dates = st.one_of(
    dates.map(TTDate.from_date),
    dates.map(lambda d: TTDate(d.year, d.month)),
    dates.map(lambda d: TTDate(d.year)),
)


@given(tt_dates)
def test_format_parse_roundtrip(value: TTDate) -> None:
    assert TTDate.parse(value.format(), allow_partial=True) == value
    assert value.first_day() <= value.last_day()


@given(dates)
def test_iso_variant_normalised(day: dt.date) -> None:
    assert TTDate.parse(day.isoformat()).first_day() == day
