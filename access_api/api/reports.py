"""Registers and reports (#15): the list of reports, any registered report as XLSX, PDF, CSV or
JSON, the access register (paged JSON) and the dashboard of plan figures. Parse, call one
service (``access_api.services.reports.service``, ``registers``, ``dashboard``), render."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response, request
from marshmallow import ValidationError
from werkzeug.wsgi import wrap_file

from access_api.api.base import PageQuery, identity, paged, requires, services
from access_api.services import dashboard as dashboard_service
from access_api.services import registers
from access_api.services.base import UserRole
from access_api.services.reports import service as reports
from access_api.services.reports.spec import ReportFormat

bp = APIBlueprint("reports", __name__, url_prefix="/api/v1", tag="reports")


BINARY = {reports.MEDIA_TYPES[f]: {"schema": {"type": "string", "format": "binary"}}
          for f in (ReportFormat.XLSX, ReportFormat.PDF)}
REPORT_ERRORS = {
    401: "Chưa đăng nhập (AUTH003)", 403: "Báo cáo không dành cho vai trò này (AUTH004)",
    404: "Không có báo cáo (RPT001), phông (RPT006) hoặc hồ sơ (RPT007) này",
    400: "Mã hồ sơ trùng ở nhiều phông (RPT008)",
    422: "Tham số không hợp lệ (RPT010: RPT002 thiếu, RPT003 không nhận, RPT004 ngày sai, "
         "RPT005 khoảng thời gian ngược)",
    503: "Thiếu phông chữ in PDF trên máy chủ (RPT012)"}


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _file(name: str, fmt: str, **given: Any) -> Response:
    done, spool, size = reports.spooled(services(), identity(), name, fmt, **given)
    rv = Response(wrap_file(request.environ, spool), content_type=done.media_type,
                  direct_passthrough=True)
    rv.content_length = size
    rv.headers["Content-Disposition"] = f'attachment; filename="{done.filename}"'
    rv.cache_control.no_store = True
    return rv


class DateOrInstant(fields.Field):
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date and time (UTC without an offset)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise ValidationError("YYYY-MM-DD or ISO 8601")
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("YYYY-MM-DD or ISO 8601") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class RegisterQuery(PageQuery):
    since = DateOrInstant(data_key="from", load_default=None)
    until = DateOrInstant(data_key="to", load_default=None)
    format = fields.String(load_default="json",
                           validate=validators.OneOf(["json", "csv", "xlsx", "pdf"]))


class AccessRow(Schema):
    no = fields.Integer(required=True)
    at = fields.String(required=True, metadata={"description": "ISO 8601, +07:00"})
    actor = fields.String(required=True)
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.String(required=True)
    title = fields.String(required=True)
    purpose = fields.String(required=True)
    request_id = fields.String(required=True)
    detail = fields.Dict(required=True)


class AccessRegisterOut(Schema):
    register = fields.String(required=True)
    title = fields.String(required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    size = fields.Integer(required=True)
    items = fields.List(fields.Nested(AccessRow), required=True)


@bp.get("/reports/so_khai_thac")
@requires(UserRole.ARCHIVIST)
@bp.input(RegisterQuery, location="query", arg_name="query")
@bp.output(AccessRegisterOut)
@bp.doc(summary="Sổ khai thác sử dụng (the access register; JSON paged, or CSV, XLSX, PDF "
                "whole)",
        description="JSON and CSV: entries in [from, to), a date alone being midnight UTC. "
                    "XLSX and PDF are the printed register of GET /api/v1/reports/{name}: the "
                    "days of from and to in Vietnam time, to included.",
        responses={401: "Chưa đăng nhập", 403: "Không có quyền", 200: {"content": {  # type: ignore[arg-type]
            "text/csv": {"schema": {"type": "string"}}, **BINARY}}})
def access_register(query: dict[str, Any]) -> Any:
    ctx, who = services(), identity()
    if query["format"] in ("xlsx", "pdf"):
        return _file(registers.ACCESS_REGISTER, query["format"], since=_day(query["since"]),
                     until=_day(query["until"]))
    if query["format"] == "csv":
        page = registers.access_register(ctx, who, since=query["since"], until=query["until"])
        out = io.StringIO()
        registers.write_access_register(page.rows, out, fmt="csv", since=query["since"],
                                        until=query["until"])
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": 'attachment; filename="so_khai_thac.csv"'})
    page = registers.access_register(ctx, who, since=query["since"], until=query["until"],
                                     page=query["page"], size=query["size"])
    return {"register": registers.ACCESS_REGISTER, "title": "Sổ khai thác sử dụng",
            **paged(page.rows, page.total, query["page"], query["size"])}


class ColumnOut(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)


class ReportInfo(Schema):
    name = fields.String(required=True)
    title = fields.String(required=True)
    title_en = fields.String(required=True)
    required = fields.List(fields.String(), required=True,
                           metadata={"description": "fonds, hoso, from, to"})
    accepted = fields.List(fields.String(), required=True)
    formats = fields.List(fields.String(), required=True)
    columns = fields.List(fields.Nested(ColumnOut), required=True)


class ReportList(Schema):
    items = fields.List(fields.Nested(ReportInfo), required=True)


@bp.get("/reports")
@bp.output(ReportList)
@bp.doc(summary="Các báo cáo người gọi được in (the reports the caller may run)",
        responses={401: "Chưa đăng nhập (AUTH003)"})
@requires()
def report_list() -> Any:
    return {"items": [{
        "name": s.name, "title": s.title.vi, "title_en": s.title.en,
        "required": sorted(p.value for p in s.required),
        "accepted": sorted(p.value for p in s.accepted),
        "formats": [f.value for f in ReportFormat],
        "columns": [{"key": c.key, "label": c.label()} for c in s.columns]}
        for s in reports.available(identity())]}


class ReportQuery(Schema):
    format = fields.String(load_default="json",
                           validate=validators.OneOf([f.value for f in ReportFormat]))
    fonds = fields.String(load_default=None, validate=validators.Length(min=1, max=100),
                          metadata={"description": "Mã phông (fonds code)"})
    hoso = fields.String(load_default=None, validate=validators.Length(min=1, max=200),
                         metadata={"description": "Mã hồ sơ lưu trữ hoặc số ký hiệu hồ sơ"})
    since = fields.String(data_key="from", load_default=None,
                          validate=validators.Length(min=1, max=40),
                          metadata={"description": "YYYY-MM-DD (Vietnam time)"})
    until = fields.String(data_key="to", load_default=None,
                          validate=validators.Length(min=1, max=40),
                          metadata={"description": "YYYY-MM-DD, included (Vietnam time)"})
    lang = fields.String(load_default="vi", validate=validators.OneOf(["vi", "en"]))


class ReportOut(Schema):
    report = fields.String(required=True)
    title = fields.String(required=True)
    archive = fields.String(required=True)
    preamble = fields.List(fields.String(), required=True)
    signers = fields.List(fields.String(), required=True)
    columns = fields.List(fields.Nested(ColumnOut), required=True)
    rows = fields.List(fields.Dict(), required=True,
                       metadata={"description": "One object per row, keyed by column key"})
    count = fields.Integer(required=True)


@bp.get("/reports/<name>")
@bp.input(ReportQuery, location="query", arg_name="query")
@bp.output(ReportOut, description="The report; XLSX, PDF and CSV as an attachment")
@bp.doc(summary="Một báo cáo (a report) as XLSX, PDF, CSV (UTF-8 with BOM) or JSON",
        responses={**REPORT_ERRORS, 200: {"content": {  # type: ignore[arg-type]
            "text/csv; charset=utf-8": {"schema": {"type": "string"}}, **BINARY}}})
@requires()
def report(name: str, query: dict[str, Any]) -> Response:
    return _file(name, query["format"], fonds=query["fonds"], hoso=query["hoso"],
                 since=query["since"], until=query["until"], lang=query["lang"])


class OriginsOut(Schema):
    total = fields.Integer(required=True)
    born_digital = fields.Integer(required=True)
    digitised = fields.Integer(required=True)
    mixed = fields.Integer(required=True)
    unrecorded = fields.Integer(required=True, metadata={"description": "No confidenceLevel"})
    share_born_digital = fields.Float(required=True)
    share_digitised = fields.Float(required=True)


class TransfersOut(Schema):
    years = fields.Integer(required=True)
    permanent = fields.Integer(required=True)
    due = fields.Integer(required=True)
    transferred = fields.Integer(required=True)
    share = fields.Float(required=True)


class FixityOut(Schema):
    copies = fields.Integer(required=True)
    ok = fields.Integer(required=True)
    mismatch = fields.Integer(required=True)
    missing = fields.Integer(required=True)
    not_checked = fields.Integer(required=True)
    share_ok = fields.Float(required=True)
    last_check_at = fields.String(required=True, allow_none=True)


class LocationUseOut(Schema):
    location = fields.String(required=True)
    copies = fields.Integer(required=True)
    bytes = fields.Integer(required=True)


class MonthOut(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM (Vietnam time)"})
    packages = fields.Integer(required=True)
    bytes = fields.Integer(required=True)


class DashboardOut(Schema):
    generated_at = fields.String(required=True)
    records = fields.Nested(OriginsOut, required=True,
                            metadata={"description": "Hồ sơ held, by confidenceLevel"})
    documents = fields.Nested(OriginsOut, required=True)
    transfers = fields.Nested(TransfersOut, required=True, metadata={
        "description": "Permanent hồ sơ ended 3+ years ago (due) and those transferred"})
    fixity = fields.Nested(FixityOut, required=True)
    storage_bytes = fields.Integer(required=True)
    locations = fields.List(fields.Nested(LocationUseOut), required=True)
    growth = fields.List(fields.Nested(MonthOut), required=True,
                         metadata={"description": "AIP versions registered, last 12 months"})


@bp.get("/dashboard")
@bp.output(DashboardOut)
@bp.doc(summary="Số liệu kế hoạch cho trang đầu (the plan figures for the UI)",
        responses={401: "Chưa đăng nhập (AUTH003)", 403: "Không có quyền (AUTH004)"})
@requires(UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)
def dashboard() -> Any:
    return dashboard_service.dashboard(services(), identity()).to_dict()
