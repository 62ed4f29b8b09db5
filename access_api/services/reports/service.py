"""Running a report: the one operation ``khoso report NAME`` and ``GET /api/v1/reports/{name}``
both call. It checks the name, the caller's roles and every parameter before anything is
written, renders into the caller's stream (or a file it replaces atomically), and records who
ran which report in the audit log."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.reports import lookup
from access_api.services.reports.render_pdf import write_pdf
from access_api.services.reports.render_text import write_csv, write_json
from access_api.services.reports.render_xlsx import write_xlsx
from access_api.services.reports.sheet import Sheet
from access_api.services.reports.spec import (
    REPORTS,
    ReportFormat,
    ReportParam,
    ReportParams,
    ReportSpec,
)
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from preservation.catalog import audit as audit_log
from preservation.errors import Forbidden, KhosoError, NotFound, ValidationFailed
from preservation.issues import Issue, Report

MEDIA_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.JSON: "application/json",
}
FIELDS = {ReportParam.FONDS: "fonds", ReportParam.HOSO: "hoso", ReportParam.SINCE: "since",
          ReportParam.UNTIL: "until"}  # the issue's path: the parameter's name in code
HINTS = {ReportParam.FONDS: "--fonds CODE / fonds=CODE",
         ReportParam.HOSO: "--hoso CODE / hoso=CODE",
         ReportParam.SINCE: "--from YYYY-MM-DD / from=YYYY-MM-DD",
         ReportParam.UNTIL: "--to YYYY-MM-DD / to=YYYY-MM-DD"}


@dataclass(frozen=True)
class Rendered:
    name: str
    format: ReportFormat
    rows: int

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.format.value}"


def may_run(identity: Identity, spec: ReportSpec) -> bool:
    return identity.has(UserRole.ADMIN, *spec.roles)


def available(identity: Identity) -> list[ReportSpec]:
    """The registered reports ``identity`` may run, by name."""
    return [spec for name, spec in sorted(REPORTS.items()) if may_run(identity, spec)]


def spec_of(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise NotFound("RPT001", "name", name=name[:100],
                       known=", ".join(sorted(REPORTS))) from None


def _date(problems: list[Issue], param: ReportParam, value: str | dt.date | None
          ) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Issue("RPT004", FIELDS[param], {"param": param.value, "value": value[:40]}))
        return None


def parameters(spec: ReportSpec, *, fonds: str | None = None, hoso: str | None = None,
               since: str | dt.date | None = None, until: str | dt.date | None = None,
               lang: str = "vi") -> ReportParams:
    """Every problem with the parameters at once (422 RPT010): a missing required one, one
    the report does not take, a bad date, a period that ends before it starts."""
    problems: list[Issue] = []
    params = ReportParams(fonds=fonds or None, hoso=hoso or None,
                          since=_date(problems, ReportParam.SINCE, since),
                          until=_date(problems, ReportParam.UNTIL, until), lang=lang)
    given = {p for p, v in ((ReportParam.FONDS, fonds), (ReportParam.HOSO, hoso),
                            (ReportParam.SINCE, since), (ReportParam.UNTIL, until)) if v}
    for param in sorted(spec.required - given):
        problems.append(Issue("RPT002", FIELDS[param], {"name": spec.name, "param": param.value,
                                                      "hint": HINTS[param]}))
    for param in sorted(given - spec.takes):
        problems.append(Issue("RPT003", FIELDS[param], {
            "name": spec.name, "param": param.value,
            "accepted": ", ".join(sorted(p.value for p in spec.takes)) or "—"}))
    if params.since and params.until and params.until < params.since:
        problems.append(Issue("RPT005", "until", {"since": params.since.isoformat(),
                                               "until": params.until.isoformat()}))
    if problems:
        raise ValidationFailed(Report(problems), "RPT010")
    return params


def report_format(value: str) -> ReportFormat:
    try:
        return ReportFormat(value)
    except ValueError:
        raise KhosoError("RPT009", "format", value=value[:40],
                         known=", ".join(f.value for f in ReportFormat)) from None


def prepare(ctx: ServiceContext, identity: Identity, name: str, **given: Any
            ) -> tuple[ReportSpec, ReportParams]:
    """The report and its checked parameters: 404 RPT001 (no such report), 403 AUTH004 (not
    the caller's), 422 RPT010 (parameters), 404 RPT006/RPT007 (no such fonds/hồ sơ)."""
    spec = spec_of(name)
    if not may_run(identity, spec):
        raise Forbidden("AUTH004")
    params = parameters(spec, **given)
    if params.fonds is not None:
        lookup.fonds(ctx, params.fonds)
    if params.hoso is not None and not spec.own_hoso:
        lookup.hoso(ctx, params.hoso, params.fonds)
    return spec, params


def sheet(ctx: ServiceContext, spec: ReportSpec, params: ReportParams) -> Sheet:
    lang = params.lang
    return Sheet(spec.name, spec.title.label(lang), ctx.settings.archive_name, spec.columns,
                 iter(spec.rows(ctx, params)),
                 tuple(spec.preamble(ctx, params)) if spec.preamble else (),
                 tuple(s.label(lang) for s in spec.signers), lang, spec.landscape,
                 ctx.settings.report_place)


def _draw(ctx: ServiceContext, fmt: ReportFormat, drawn: Sheet, out: BinaryIO) -> int:
    if fmt == ReportFormat.PDF:
        return write_pdf(drawn, out, font_dir=ctx.settings.report_font_dir)
    if fmt == ReportFormat.XLSX:
        return write_xlsx(drawn, out)
    if fmt == ReportFormat.CSV:
        return write_csv(drawn, out)
    return write_json(drawn, out)


def _audit(ctx: ServiceContext, identity: Identity, spec: ReportSpec, params: ReportParams,
           fmt: ReportFormat, rows: int) -> None:
    with UnitOfWork(ctx) as uow:
        audit_log.record(uow.session, identity.actor, "report.generated", "report", spec.name,
                         format=fmt.value, rows=rows, fonds=params.fonds, hoso=params.hoso,
                         since=params.since, until=params.until)
        uow.register(MirrorAuditLog())


def render(ctx: ServiceContext, identity: Identity, name: str, fmt: str, out: BinaryIO,
           **given: Any) -> Rendered:
    """Render report ``name`` as ``fmt`` into ``out`` (the caller's stream); every check runs
    before the first byte. ``given``: fonds, hoso, since, until, lang."""
    chosen = report_format(fmt)
    spec, params = prepare(ctx, identity, name, **given)
    rows = _draw(ctx, chosen, sheet(ctx, spec, params), out)
    _audit(ctx, identity, spec, params, chosen, rows)
    return Rendered(spec.name, chosen, rows)


def write_file(ctx: ServiceContext, identity: Identity, name: str, fmt: str, path: Path,
               **given: Any) -> Rendered:
    """Render into ``path``: written beside it under a temporary name and renamed when
    complete, so a failure (a bad parameter, a full disk, an unwritable folder) leaves no
    partial file and never an old one half-overwritten."""
    chosen = report_format(fmt)
    spec, params = prepare(ctx, identity, name, **given)
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(str(target))
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part",
                                    dir=target.parent if str(target.parent) else ".")
    except OSError as exc:
        raise KhosoError("RPT011", "out", file=str(target), reason=type(exc).__name__) from None
    try:
        with os.fdopen(fd, "wb") as out:
            rows = _draw(ctx, chosen, sheet(ctx, spec, params), out)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise KhosoError("RPT011", "out", file=str(target), reason=type(exc).__name__) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _audit(ctx, identity, spec, params, chosen, rows)
    return Rendered(spec.name, chosen, rows)


def spooled(ctx: ServiceContext, identity: Identity, name: str, fmt: str, **given: Any
            ) -> tuple[Rendered, BinaryIO, int]:
    """Render into a temporary file (memory stays flat whatever the size) and hand it back at
    its start with its size: errors surface before a response starts, never halfway through
    a download. The caller closes the file (the web server does, once it is sent)."""
    spool = tempfile.TemporaryFile()
    try:
        done = render(ctx, identity, name, fmt, spool, **given)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return done, spool, size
