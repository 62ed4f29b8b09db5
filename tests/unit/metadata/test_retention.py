from __future__ import annotations

import datetime as dt

import pytest

from preservation.errors import KhosoError
from preservation.metadata.dates import TTDate
from preservation.metadata.retention import RetentionRule, expiry, retention_years, review_from


def test_ten_years_from_end_of_year() -> None:
    assert expiry(TTDate.parse("28/12/2001"), "06") == dt.date(2011, 12, 31)
    assert review_from(TTDate.parse("28/12/2001"), "06") == dt.date(2012, 1, 1)


def test_permanent_never_expires() -> None:
    assert expiry(TTDate(2001, 12, 28), "01") is None
    assert review_from(TTDate(2001, 12, 28), "01") is None


def test_other_with_years() -> None:
    assert expiry(TTDate(2001, 12, 28), "07", 15) == dt.date(2016, 12, 31)


@pytest.mark.parametrize(
    ("end", "code", "expected"),
    [
        (TTDate(2001, 6), "05", dt.date(2021, 12, 31)),
        (TTDate(2001), "04", dt.date(2031, 12, 31)),
        (TTDate(1990, 1, 1), "02", dt.date(2060, 12, 31)),
        (TTDate(1990), "03", dt.date(2040, 12, 31)),
    ],
)
def test_partial_end_dates(end: TTDate, code: str, expected: dt.date) -> None:
    assert expiry(end, code) == expected


def test_configurable_rule() -> None:
    exact = RetentionRule(count_from="end_date", expiry_at="anniversary")
    assert expiry(TTDate(2001, 6, 15), "06", rule=exact) == dt.date(2011, 6, 15)
    assert expiry(TTDate(2000, 2, 29), "06", rule=exact) == dt.date(2010, 2, 28)
    assert expiry(TTDate(2001, 6), "06", rule=exact) == dt.date(2011, 6, 30)


@pytest.mark.parametrize(
    ("code", "other", "error"),
    [("07", None, "RET002"), ("07", 0, "RET004"), ("07", True, "RET004"), ("99", None, "RET001")],
)
def test_errors(code: str, other: int | None, error: str) -> None:
    with pytest.raises(KhosoError) as info:
        retention_years(code, other)
    assert info.value.code == error


def test_bad_rule() -> None:
    with pytest.raises(KhosoError) as info:
        RetentionRule(count_from="start_year")  # type: ignore[arg-type]
    assert info.value.code == "RET006"
    with pytest.raises(KhosoError):
        RetentionRule(expiry_at="month_end")  # type: ignore[arg-type]
