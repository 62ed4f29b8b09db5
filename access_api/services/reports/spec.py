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


@dataclass(frozen=True)
class ReportParams:
    fonds: str | None = None
    hoso: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive
    lang: str = "vi"


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


REPORTS: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    if spec.name in REPORTS:
        raise ValueError(f"report {spec.name} registered twice")
    REPORTS[spec.name] = spec
    return spec
