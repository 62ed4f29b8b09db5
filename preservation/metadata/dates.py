"""TT 05 dates: ``DD/MM/YYYY`` everywhere, ``MM/YYYY`` and ``YYYY`` also allowed in AIPs (§3.2).

Archival dates are often known only to the month or the year, so a date keeps its precision
instead of inventing a day; ``first_day``/``last_day`` give the interval it stands for.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Literal

from preservation.errors import KhosoError

Precision = Literal["day", "month", "year"]

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MY = re.compile(r"(\d{1,2})/(\d{4})")
_Y = re.compile(r"(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
EXPECTED_FULL = "DD/MM/YYYY"
EXPECTED_PARTIAL = "DD/MM/YYYY, MM/YYYY hoặc/or YYYY"


@total_ordering
@dataclass(frozen=True)
class TTDate:
    """A calendar date of day, month or year precision; ordered by its first day."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        text = self._raw()
        if not 1 <= self.year <= 9999 or (self.day is not None and self.month is None):
            raise KhosoError("DATE001", value=text, expected=EXPECTED_PARTIAL)
        if self.month is not None and not 1 <= self.month <= 12:
            raise KhosoError("DATE002", value=text)
        if self.day is not None:
            assert self.month is not None
            if not 1 <= self.day <= calendar.monthrange(self.year, self.month)[1]:
                raise KhosoError("DATE002", value=text)

    def _raw(self) -> str:
        parts = [p for p in (self.day, self.month) if p is not None]
        return "/".join([f"{p:02d}" for p in parts] + [f"{self.year:04d}"])

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    def _key(self) -> tuple[int, int, int]:
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TTDate):
            return NotImplemented
        return self._key() < other._key()

    def format(self) -> str:
        """TT 05 text form: ``DD/MM/YYYY``, ``MM/YYYY`` or ``YYYY``."""
        return self._raw()

    __str__ = format

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> dt.date:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    @classmethod
    def from_date(cls, value: dt.date) -> TTDate:
        return cls(value.year, value.month, value.day)

    @classmethod
    def parse(cls, text: str, allow_partial: bool = False) -> TTDate:
        """Parse TT 05 text; ISO ``YYYY-MM-DD`` is accepted as a variant (see ``is_iso``).

        Day and month may have one digit on input (``2/1/2001``); output always pads.
        """
        value = text.strip()
        expected = EXPECTED_PARTIAL if allow_partial else EXPECTED_FULL
        if m := _DMY.fullmatch(value):
            day, month, year = (int(g) for g in m.groups())
            return cls._checked(year, month, day, text)
        if m := _ISO.fullmatch(value):
            year, month, day = (int(g) for g in m.groups())
            return cls._checked(year, month, day, text)
        partial: TTDate | None = None
        if m := _MY.fullmatch(value):
            month, year = (int(g) for g in m.groups())
            partial = cls._checked(year, month, None, text)
        elif _Y.fullmatch(value):
            partial = cls._checked(int(value), None, None, text)
        if partial is None:
            raise KhosoError("DATE001", value=text, expected=expected)
        if not allow_partial:
            raise KhosoError("DATE003", value=text, package="SIP/DIP")
        return partial

    @classmethod
    def _checked(cls, year: int, month: int | None, day: int | None, text: str) -> TTDate:
        try:
            return cls(year, month, day)
        except KhosoError as exc:
            raise KhosoError(exc.code, value=text, expected=EXPECTED_PARTIAL) from None


def is_iso(text: str) -> bool:
    """True when ``text`` used the ISO variant, so a reader can report the normalisation."""
    return _ISO.fullmatch(text.strip()) is not None
