"""What a report is, independent of how it is rendered (XLSX, PDF, CSV, JSON).

Each area registers its reports here (``register``); the renderers, ``khoso report NAME``
and ``GET /api/v1/reports/{name}`` work over whatever is registered. Rows are an iterator so
that a report of 100,000 hồ sơ is streamed, never built in memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from access_api.services.base import ServiceContext, UserRole
from preservation.issues import Text

ICT = dt.timezone(dt.timedelta(hours=7), "ICT")


class ReportParam(StrEnum):
    """The parameters a report may take (``--fonds``, ``--hoso``, ``--from``, ``--to``)."""

    FONDS = "fonds"
    HOSO = "hoso"
    SINCE = "from"
    UNTIL = "to"


class ReportFormat(StrEnum):
    XLSX = "xlsx"
    PDF = "pdf"
    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class Column:
    key: str
    title: Text
    width: float = 20  # relative width: the PDF shares the page by it, the XLSX uses characters
    align: str = "left"  # left | center | right
    wrap: bool = True

    def label(self, lang: str = "vi") -> str:
        return self.title.label(lang)


@dataclass(frozen=True)
class ReportParams:
    fonds: str | None = None
    hoso: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    lang: str = "vi"

    def given(self) -> frozenset[ReportParam]:
        """The parameters the caller gave."""
        values = {ReportParam.FONDS: self.fonds, ReportParam.HOSO: self.hoso,
                  ReportParam.SINCE: self.since, ReportParam.UNTIL: self.until}
        return frozenset(p for p, v in values.items() if v is not None)

    def window(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """``[since, until]`` as instants ``[start, end)``: the days are Vietnam days (UTC+7),
        ``until`` inclusive, so ``--to 2026-12-31`` covers the whole of that day."""
        start = (dt.datetime.combine(self.since, dt.time(), ICT)
                 if self.since is not None else None)
        end = (dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), ICT)
               if self.until is not None else None)
        return start, end


@dataclass(frozen=True)
class ReportSpec:
    """``rows`` yields one sequence per row, in column order. ``preamble`` gives the lines
    printed under the title (the fonds, the period, a case's facts); ``signers`` the
    signature blocks under a minutes-style report (biên bản)."""

    name: str
    title: Text
    columns: tuple[Column, ...]
    rows: Callable[[ServiceContext, ReportParams], Iterator[Sequence[Any]]]
    roles: tuple[UserRole, ...] = (UserRole.ADMIN, UserRole.ARCHIVIST)
    required: frozenset[ReportParam] = frozenset()
    accepted: frozenset[ReportParam] = frozenset()
    preamble: Callable[[ServiceContext, ReportParams], list[str]] | None = None
    signers: tuple[Text, ...] = ()
    landscape: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    own_hoso: bool = False
    """``hoso`` names something of the report's own area (a destruction case, a transfer),
    which its rows and preamble look up, and refuse when unknown, themselves."""

    @property
    def takes(self) -> frozenset[ReportParam]:
        """Every parameter the report accepts, the required ones included."""
        return self.required | self.accepted


REPORTS: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    if spec.name in REPORTS:
        raise ValueError(f"report {spec.name} registered twice")
    REPORTS[spec.name] = spec
    return spec
