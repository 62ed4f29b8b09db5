"""Bóc tách thông tin (#16): run the extraction on a document, read its proposal, confirm or
correct it. Parse, call one service (``access_api.services.extraction``), render.

Archivists and administrators only: a proposal is a draft of the record, not something a
reader or an agency system acts on."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields
from flask import request

from access_api.api.base import Instant, identity, requires, services
from access_api.services import extraction as service
from access_api.services.base import UserRole
from preservation.catalog.vocab import ExtractionSource, ExtractionStatus

bp = APIBlueprint("extraction", __name__, url_prefix="/api/v1", tag="extraction")

ERRORS = {401: "Chưa đăng nhập (AUTH003)", 403: "Không có quyền (AUTH004)",
          404: "Không tìm thấy tài liệu hoặc đề xuất (GEN002, EXT003, EXT011)",
          413: "Nội dung yêu cầu quá lớn (API004)"}
RUN_ERRORS = {**ERRORS, 422: "Từ chối (EXT012): không có văn bản OCR, văn bản quá dài hoặc "
                             "không phải văn bản (EXT001, EXT002, EXT010 trong issues)"}
CONFIRM_ERRORS = {**ERRORS, 409: "Đề xuất đã được xử lý (EXT004)",
                  422: "Sửa đổi không hợp lệ (EXT009) hoặc phiên bản mới bị từ chối (VER010)"}


@bp.before_request
def bounded_bodies() -> None:
    """The text of a page fits well within the limit; UTF-8 takes up to 4 bytes a character."""
    request.max_content_length = 4 * services().settings.extraction_max_text + (64 << 10)


class RunIn(Schema):
    text = fields.String(load_default=None, allow_none=True, metadata={
        "description": "Văn bản OCR (trang đầu) để bóc tách; bỏ trống thì dùng văn bản OCR của "
                       "tài liệu trong kho (text of the first page; empty: the stored OCR text)"})


class FieldOut(Schema):
    value = fields.String(allow_none=True, required=True)
    confidence = fields.Float(required=True, metadata={"description": "0–1"})
    evidence = fields.String(allow_none=True, required=True,
                             metadata={"description": "Dòng OCR nơi đọc được giá trị"})


class FieldsOut(Schema):
    typeName = fields.Nested(FieldOut, required=True)  # noqa: N815 — TT 05 element names
    codeNumber = fields.Nested(FieldOut, required=True)  # noqa: N815
    codeNotation = fields.Nested(FieldOut, required=True)  # noqa: N815
    issuedDate = fields.Nested(FieldOut, required=True)  # noqa: N815
    organName = fields.Nested(FieldOut, required=True)  # noqa: N815
    subject = fields.Nested(FieldOut, required=True)


class Values(Schema):
    typeName = fields.String(allow_none=True, metadata={"description": "Mã tên loại 01–32"})  # noqa: N815
    codeNumber = fields.String(allow_none=True)  # noqa: N815
    codeNotation = fields.String(allow_none=True)  # noqa: N815
    issuedDate = fields.String(allow_none=True, metadata={"description": "DD/MM/YYYY"})  # noqa: N815
    organName = fields.String(allow_none=True)  # noqa: N815
    subject = fields.String(allow_none=True)


class CorrectionsIn(Schema):
    """Only the fields sent count: an absent field takes the proposed value, a null or empty
    one keeps the document's own value."""

    typeName = fields.String(allow_none=True, metadata={"description": "Mã tên loại 01–32"})  # noqa: N815
    codeNumber = fields.String(allow_none=True)  # noqa: N815
    codeNotation = fields.String(allow_none=True)  # noqa: N815
    issuedDate = fields.String(allow_none=True, metadata={"description": "DD/MM/YYYY"})  # noqa: N815
    organName = fields.String(allow_none=True)  # noqa: N815
    subject = fields.String(allow_none=True)


class ProposalOut(Schema):
    id = fields.String(required=True)
    docCode = fields.String(required=True)  # noqa: N815
    status = fields.String(required=True, metadata={"enum": [s.value for s in ExtractionStatus]})
    source = fields.String(required=True, metadata={"enum": [s.value for s in ExtractionSource]})
    extractor = fields.String(required=True)
    fields_ = fields.Nested(FieldsOut, required=True, data_key="fields")
    current = fields.Nested(Values, required=True,
                            metadata={"description": "Giá trị hiện có của tài liệu"})
    createdBy = fields.String(required=True)  # noqa: N815
    createdAt = Instant(required=True)  # noqa: N815
    decidedBy = fields.String(allow_none=True)  # noqa: N815
    decidedAt = Instant(allow_none=True)  # noqa: N815
    final = fields.Nested(Values, allow_none=True)
    corrected = fields.List(fields.String(), allow_none=True)
    objid = fields.String(allow_none=True)
    version = fields.Integer(allow_none=True,
                             metadata={"description": "Phiên bản AIP do xác nhận tạo ra"})


class ConfirmIn(Schema):
    corrections = fields.Nested(CorrectionsIn, load_default=dict, metadata={
        "description": "Giá trị đã sửa: trường không gửi lấy giá trị đề xuất, trường rỗng "
                       "(null) giữ giá trị hiện có của tài liệu"})


def _out(view: service.ProposalView) -> dict[str, Any]:
    body = view.to_dict()
    body["fields_"] = body.pop("fields")
    return body


@bp.post("/documents/<path:doc_code>/extraction")
@requires(UserRole.ARCHIVIST)
@bp.input(RunIn, location="json", arg_name="body")
@bp.output(ProposalOut, status_code=201)
@bp.doc(summary="Bóc tách thông tin từ văn bản OCR (Extract metadata from OCR text)",
        responses=RUN_ERRORS)
def run_extraction(doc_code: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.run(services(), identity(), doc_code, body.get("text")))


@bp.get("/documents/<path:doc_code>/extraction")
@requires(UserRole.ARCHIVIST)
@bp.output(ProposalOut)
@bp.doc(summary="Đề xuất bóc tách mới nhất (The newest extraction proposal)",
        responses={**ERRORS, 422: "Không phải văn bản (EXT012, EXT010 trong issues)"})
def get_extraction(doc_code: str) -> dict[str, Any]:
    return _out(service.current(services(), identity(), doc_code))


@bp.post("/documents/<path:doc_code>/extraction/confirm")
@requires(UserRole.ARCHIVIST)
@bp.input(ConfirmIn, location="json", arg_name="body")
@bp.output(ProposalOut)
@bp.doc(summary="Xác nhận hoặc sửa đề xuất (Confirm or correct the proposal)",
        responses=CONFIRM_ERRORS)
def confirm_extraction(doc_code: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.confirm(services(), identity(), doc_code, body.get("corrections") or {}))
