"""Sổ khai thác sử dụng và các báo cáo (access register, reports). Parse, call one service
(``access_api.services.registers``), render."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response
from marshmallow import ValidationError

from access_api.api.base import PageQuery, identity, paged, requires, services
from access_api.services import registers
from access_api.services.base import UserRole

bp = APIBlueprint("reports", __name__, url_prefix="/api/v1", tag="reports")


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
    format = fields.String(load_default="json", validate=validators.OneOf(["json", "csv"]))


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
@bp.doc(summary="Sổ khai thác sử dụng (the access register; JSON paged, or CSV whole)",
        responses={401: "Chưa đăng nhập", 403: "Không có quyền", 200: {"content": {  # type: ignore[arg-type]
            "text/csv": {"schema": {"type": "string"}}}}})
def access_register(query: dict[str, Any]) -> Any:
    ctx, who = services(), identity()
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
