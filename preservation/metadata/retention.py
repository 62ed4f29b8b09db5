"""Retention expiry (§13): "tính từ năm công việc kết thúc" (TT 10/2022).

Default reading: a record with retention N years and end date in year Y expires on 31/12/(Y+N)
and may be listed for review ("xem xét hủy") from 01/01/(Y+N+1). The interpretation is [I], so
it is a ``RetentionRule`` the caller can change, not a constant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from preservation.errors import KhosoError
from preservation.metadata.codelists import codelist
from preservation.metadata.dates import TTDate

PERMANENT = "01"
OTHER = "07"


@dataclass(frozen=True)
class RetentionRule:
    """``count_from``: "end_year" counts from 31/12 of the end year, "end_date" from the last
    day the end date stands for. ``expiry_at``: "year_end" rounds to 31/12, "anniversary" does not."""

    count_from: Literal["end_year", "end_date"] = "end_year"
    expiry_at: Literal["year_end", "anniversary"] = "year_end"

    def __post_init__(self) -> None:
        if self.count_from not in ("end_year", "end_date"):
            raise KhosoError("RET006", name="count_from", value=self.count_from)
        if self.expiry_at not in ("year_end", "anniversary"):
            raise KhosoError("RET006", name="expiry_at", value=self.expiry_at)


DEFAULT_RULE = RetentionRule()


def retention_years(maintenance: str, other_years: int | None = None) -> int | None:
    """Years of a retention code; None for permanent (01). 07 needs ``other_years``."""
    cl = codelist("maintenance")
    if maintenance not in cl:
        raise KhosoError("RET001", value=maintenance)
    if maintenance == PERMANENT:
        return None
    if maintenance == OTHER:
        if other_years is None:
            raise KhosoError("RET002")
        if isinstance(other_years, bool) or not isinstance(other_years, int) or other_years <= 0:
            raise KhosoError("RET004", value=other_years)
        return other_years
    return int(cl.attr(maintenance, "years"))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29/02 in a non-leap year
        return day.replace(year=day.year + years, day=28)


def expiry(
    end_date: TTDate,
    maintenance: str,
    other_years: int | None = None,
    rule: RetentionRule = DEFAULT_RULE,
) -> dt.date | None:
    """Last day the record must be kept; None = permanent."""
    years = retention_years(maintenance, other_years)
    if years is None:
        return None
    start = dt.date(end_date.year, 12, 31) if rule.count_from == "end_year" else end_date.last_day()
    end = _add_years(start, years)
    return dt.date(end.year, 12, 31) if rule.expiry_at == "year_end" else end


def review_from(
    end_date: TTDate,
    maintenance: str,
    other_years: int | None = None,
    rule: RetentionRule = DEFAULT_RULE,
) -> dt.date | None:
    """First day the record may be listed as expired; None = permanent."""
    last = expiry(end_date, maintenance, other_years, rule)
    return None if last is None else last + dt.timedelta(days=1)
