"""The TT 05 registers (Phụ lục VII): backup log, inspection record, incident record."""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from access_api.services.base import ServiceContext
from storage.registers import REGISTERS, build_register, write_register

NAMES = tuple(REGISTERS)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A date given without a zone is taken as UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def write(ctx: ServiceContext, name: str, stream: TextIO, *, fmt: str = "csv",
          since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    """Register ``name`` for events in ``[since, until)`` written to ``stream`` as CSV or
    JSON; returns the number of rows."""
    since, until = _utc(since), _utc(until)
    with ctx.catalog.session() as session:
        rows = build_register(session, name, since=since, until=until)
    write_register(name, rows, stream, fmt=fmt, since=since, until=until)
    return len(rows)
