"""Nộp lưu vào lưu trữ lịch sử (transfers to the historical archive): register, list, the due
hồ sơ and today's warnings, send to another khoso or export to media, follow the receiver,
record a receipt, complete, the hand-over record. Parse, call one service
(``access_api.services.transfers``), render.

The receiving archive's token is taken in the body of ``send`` and ``refresh`` only, used for
those calls, and never stored, logged or returned."""

from __future__ import annotations

import datetime as dt
from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import request

from access_api.api.base import Instant, PageQuery, identity, page_of, paged, requires, services
from access_api.services import transfers as service
from access_api.services.base import UserRole
from preservation.catalog.vocab import TransferStatus

bp = APIBlueprint("transfers", __name__, url_prefix="/api/v1", tag="transfers")

TEXT = validators.Regexp(r"^[^\x00-\x1f\ud800-\udfff\ufffe\uffff]*$",
                         error="no control characters or lone surrogates")
STATUSES = [s.value for s in TransferStatus]
# dates a person can mean (and date arithmetic cannot overflow on)
DAYS = validators.Range(min=dt.date(1900, 1, 1), max=dt.date(2999, 12, 31))
JSON_LIMIT = 4 << 20  # a receipt of 10,000 files; never a bag
ERRORS = {401: "Chưa đăng nhập (AUTH003)", 403: "Không có quyền (AUTH004)",
          404: "Không tìm thấy (TRF007, TRF022, TRF023, TRF025)",
          409: "Sai trạng thái (TRF008, TRF009), bên nhận không nhận gói (TRF014), thư mục "
               "(TRF024)",
          422: "Dữ liệu không hợp lệ (TRF001–TRF006, TRF013 mã truy cập bị từ chối, TRF017, "
               "TRF018, TRF027)",
          503: "Kho nhận không trả lời, lỗi 5xx hoặc trả lời sai (TRF010–TRF012), không đọc được "
               "bản tốt (TRF019); gửi lại sau"}


@bp.before_request
def small_bodies() -> None:
    request.max_content_length = JSON_LIMIT


class ItemOut(Schema):
    arcFileCode = fields.String(required=True)  # noqa: N815 - the TT 05 element name
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validators.OneOf(STATUSES))
    status_label = fields.String(required=True)
    objid = fields.String(allow_none=True, metadata={"description": "OBJID của gói SIP đã gửi"})
    remote_job = fields.String(allow_none=True)
    remote_arcFileCode = fields.String(allow_none=True)  # noqa: N815
    files = fields.Integer(required=True)
    problem = fields.Dict(allow_none=True)
    sent_at = Instant(allow_none=True)
    decided_at = Instant(allow_none=True)


class TransferOut(Schema):
    id = fields.String(required=True)
    fonds = fields.String(required=True)
    title = fields.String(required=True)
    receiver = fields.String(required=True)
    planned_on = fields.String(required=True)
    status = fields.String(required=True, validate=validators.OneOf(STATUSES))
    status_label = fields.String(required=True)
    delivery = fields.String(allow_none=True)
    remote_url = fields.String(allow_none=True)
    media_dir = fields.String(allow_none=True)
    registered_by = fields.String(required=True)
    registered_at = Instant(required=True)
    sent_at = Instant(allow_none=True)
    completed_by = fields.String(allow_none=True)
    completed_at = Instant(allow_none=True)
    total_records = fields.Integer(required=True)
    total_files = fields.Integer(required=True)
    items = fields.List(fields.Nested(ItemOut), required=True)


TransferPage = page_of(TransferOut, "TransferPage")


class ListQuery(PageQuery):
    status = fields.String(load_default=None, validate=validators.OneOf(STATUSES))


class RegisterIn(Schema):
    fonds = fields.String(required=True, validate=[validators.Length(min=1, max=20), TEXT])
    title = fields.String(required=True, validate=[validators.Length(min=1, max=500), TEXT],
                          metadata={"description": "Tên khối tài liệu giao nộp"})
    receiver = fields.String(required=True, validate=[validators.Length(min=1, max=300), TEXT],
                             metadata={"description": "Lưu trữ lịch sử nhận nộp lưu"})
    planned_on = fields.Date(required=True, validate=DAYS, metadata={
        "description": "Ngày dự kiến nộp lưu: sau ngày đăng ký ít nhất "
                       "KHOSO_TRANSFER_NOTICE_MONTHS tháng"})
    records = fields.List(fields.String(validate=[validators.Length(min=1, max=100), TEXT]),
                          load_default=None, allow_none=True,
                          validate=validators.Length(min=1, max=service.MAX_RECORDS),
                          metadata={"description": "arcFileCode của các hồ sơ; bỏ trống: các "
                                                   "hồ sơ vĩnh viễn đến hạn"})


class SendIn(Schema):
    remote_url = fields.String(required=True, validate=validators.Length(min=1, max=500),
                               metadata={"description": "Địa chỉ gốc của khoso nhận"})
    token = fields.String(required=True, load_only=True,
                          validate=[validators.Length(min=1, max=500), TEXT],
                          metadata={"description": "Mã truy cập của tài khoản agency_submitter "
                                                   "tại kho nhận; không được lưu"})
    resend_interrupted = fields.Boolean(
        load_default=False,
        metadata={"description": "Gửi lại cả hồ sơ mà lần gửi trước bị dừng giữa chừng "
                                 "(TRF031), sau khi đã kiểm tra kho nhận chưa có"})


class RefreshIn(Schema):
    token = fields.String(required=True, load_only=True,
                          validate=[validators.Length(min=1, max=500), TEXT])


class ReceiptFileIn(Schema):
    path = fields.String(required=True, validate=[validators.Length(max=1024), TEXT])
    size = fields.Integer(required=True, validate=validators.Range(min=0))
    sha256 = fields.String(required=True, validate=validators.Regexp(r"^[0-9a-f]{64}$"))


class PartyIn(Schema):
    code = fields.String(allow_none=True, validate=validators.Length(max=300))
    name = fields.String(allow_none=True, validate=validators.Length(max=300))


class ReceiptIn(Schema):
    """The receiving khoso's receipt (``GET /api/v1/jobs/{id}/receipt``) of a bag on media."""

    job = fields.String(required=True, validate=validators.Length(min=1, max=36))
    objid = fields.String(required=True, validate=validators.Length(min=1, max=200))
    arcFileCode = fields.String(required=True,  # noqa: N815
                                validate=[validators.Length(min=1, max=100), TEXT])
    title = fields.String(allow_none=True, validate=validators.Length(max=1000))
    agency = fields.Nested(PartyIn, allow_none=True)
    archive = fields.Nested(PartyIn, allow_none=True)
    accepted_at = fields.String(allow_none=True, validate=validators.Length(max=40))
    submitted_by = fields.String(allow_none=True, validate=validators.Length(max=80))
    total_files = fields.Integer(allow_none=True)
    total_size = fields.Integer(allow_none=True)
    files = fields.List(fields.Nested(ReceiptFileIn), required=True,
                        validate=validators.Length(max=200_000))


class DueQuery(Schema):
    on = fields.Date(load_default=None, validate=DAYS,
                     metadata={"description": "Ngày tính (mặc định: hôm nay)"})
    fonds = fields.String(load_default=None, validate=validators.Length(min=1, max=20))
    within_days = fields.Integer(load_default=None,
                                 validate=validators.Range(min=0, max=100 * 366))


class DueRecordOut(Schema):
    arcFileCode = fields.String(required=True)  # noqa: N815
    title = fields.String(required=True)
    fonds = fields.String(required=True)
    entered_on = fields.String(required=True)
    deadline = fields.String(required=True)
    target = fields.String(required=True)
    days_left = fields.Integer(required=True)
    transfer = fields.String(allow_none=True)


class PlanOut(Schema):
    target_years = fields.Integer(required=True)
    goal = fields.Float(required=True)
    permanent_due_by_target = fields.Integer(required=True)
    transferred_within_target = fields.Integer(required=True)
    share = fields.Float(allow_none=True)


class DueOut(Schema):
    on = fields.String(required=True)
    records = fields.List(fields.Nested(DueRecordOut), required=True)
    plan = fields.Nested(PlanOut, required=True)


class WarningQuery(Schema):
    on = fields.Date(load_default=None, validate=DAYS)


class WarningOut(Schema):
    code = fields.String(required=True)
    severity = fields.String(required=True)
    path = fields.String(required=True)
    message = fields.String(required=True)
    message_en = fields.String(required=True)


class WarningsOut(Schema):
    items = fields.List(fields.Nested(WarningOut), required=True)


class HandoverOut(Schema):
    """Biên bản giao nhận (NĐ 30/2020 Phụ lục V) of one transfer."""

    transfer = fields.String(required=True)
    ten_khoi_tai_lieu = fields.String(required=True)
    thoi_gian = fields.String(required=True)
    tong_so_ho_so = fields.Integer(required=True)
    tong_so_tep = fields.Integer(required=True)
    tinh_trang = fields.String(required=True)
    ben_giao = fields.String(required=True)
    ben_nhan = fields.String(required=True)
    muc_luc = fields.List(fields.List(fields.Raw()), required=True)


def _out(view: service.TransferView) -> dict[str, Any]:
    return view.to_dict()


@bp.get("/transfers")
@requires(UserRole.ARCHIVIST)
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(TransferPage)
@bp.doc(summary="Danh sách lần nộp lưu (List transfers)", responses=ERRORS)
def list_transfers(query: dict[str, Any]) -> dict[str, Any]:
    status = TransferStatus(query["status"]) if query["status"] else None
    views, total = service.page(services(), identity(), status=status, page=query["page"],
                                size=query["size"])
    return paged([_out(v) for v in views], total, query["page"], query["size"])


@bp.post("/transfers")
@requires(UserRole.ARCHIVIST)
@bp.input(RegisterIn, location="json", arg_name="body")
@bp.output(TransferOut, status_code=201)
@bp.doc(summary="Đăng ký nộp lưu (Register a transfer, 12 months ahead)", responses=ERRORS)
def register_transfer(body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.register(services(), identity(), fonds=body["fonds"],
                                 title=body["title"], receiver=body["receiver"],
                                 planned_on=body["planned_on"], records=body["records"]))


@bp.get("/transfers/due")
@requires(UserRole.ARCHIVIST)
@bp.input(DueQuery, location="query", arg_name="query")
@bp.output(DueOut)
@bp.doc(summary="Hồ sơ vĩnh viễn đến hạn nộp lưu và tỷ lệ đạt chỉ tiêu (Due hồ sơ, plan share)",
        responses=ERRORS)
def due_records(query: dict[str, Any]) -> dict[str, Any]:
    return service.due(services(), identity(), on=query["on"], fonds=query["fonds"],
                       within_days=query["within_days"]).to_dict()


@bp.get("/transfers/warnings")
@requires(UserRole.ARCHIVIST)
@bp.input(WarningQuery, location="query", arg_name="query")
@bp.output(WarningsOut)
@bp.doc(summary="Cảnh báo đến hạn nộp lưu (Deadline warnings, 30 days ahead)", responses=ERRORS)
def transfer_warnings(query: dict[str, Any]) -> dict[str, Any]:
    found = service.warnings_for(services(), identity(), on=query["on"])
    return {"items": [{"code": i.code, "severity": i.severity.value, "path": i.path,
                       "message": i.message("vi"), "message_en": i.message("en")}
                      for i in found]}


@bp.get("/transfers/<transfer_id>")
@requires(UserRole.ARCHIVIST)
@bp.output(TransferOut)
@bp.doc(summary="Một lần nộp lưu và các hồ sơ của nó (A transfer)", responses=ERRORS)
def show_transfer(transfer_id: str) -> dict[str, Any]:
    return _out(service.show(services(), identity(), transfer_id))


@bp.post("/transfers/<transfer_id>/send")
@requires(UserRole.ARCHIVIST)
@bp.input(SendIn, location="json", arg_name="body")
@bp.output(TransferOut)
@bp.doc(summary="Gửi các gói SIP_hoso tới khoso nhận (Send to the receiving khoso)",
        responses=ERRORS)
def send_transfer(transfer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.send(services(), identity(), transfer_id,
                             remote_url=body["remote_url"], token=body["token"],
                             resend_interrupted=body["resend_interrupted"]))


@bp.post("/transfers/<transfer_id>/refresh")
@requires(UserRole.ARCHIVIST)
@bp.input(RefreshIn, location="json", arg_name="body")
@bp.output(TransferOut)
@bp.doc(summary="Cập nhật trạng thái và biên bản từ kho nhận (Follow the receiver's jobs)",
        responses=ERRORS)
def refresh_transfer(transfer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.refresh(services(), identity(), transfer_id, token=body["token"]))


@bp.post("/transfers/<transfer_id>/export")
@requires(UserRole.ARCHIVIST)
@bp.output(TransferOut)
@bp.doc(summary="Xuất các gói ra thư mục để giao trên vật mang tin (Export to media)",
        description="The bags and the mục lục go to `{data}/transfers/media/{id}` on the "
                    "server; `khoso transfer export --out` chooses another folder.",
        responses=ERRORS)
def export_transfer(transfer_id: str) -> dict[str, Any]:
    return _out(service.export_media(services(), identity(), transfer_id))


@bp.post("/transfers/<transfer_id>/receipts")
@requires(UserRole.ARCHIVIST)
@bp.input(ReceiptIn, location="json", arg_name="body")
@bp.output(TransferOut)
@bp.doc(summary="Ghi biên bản nhận của một gói giao trên vật mang tin (Record a receipt)",
        responses=ERRORS)
def record_receipt(transfer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.record_receipt(services(), identity(), transfer_id, body))


@bp.post("/transfers/<transfer_id>/complete")
@requires(UserRole.ARCHIVIST)
@bp.output(TransferOut)
@bp.doc(summary="Đánh dấu các bản lưu đã nộp lưu (Mark copies transferred, after good "
                "receipts)", responses=ERRORS)
def complete_transfer(transfer_id: str) -> dict[str, Any]:
    return _out(service.complete(services(), identity(), transfer_id))


@bp.get("/transfers/<transfer_id>/handover")
@requires(UserRole.ARCHIVIST)
@bp.output(HandoverOut)
@bp.doc(summary="Biên bản giao nhận (NĐ 30/2020 Phụ lục V) của một lần nộp lưu",
        responses=ERRORS)
def handover(transfer_id: str) -> dict[str, Any]:
    h = service.handover(services(), identity(), transfer_id)
    return h.to_dict(service.handover_rows(services(), h.transfer.id))
