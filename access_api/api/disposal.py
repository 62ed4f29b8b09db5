"""Hủy tài liệu hết giá trị (retention, legal holds, destruction cases): parse, call one
service (``access_api.services.disposal``), render.

Roles: archivists (and admins) scan, list, hold, propose and execute; the council members
(staff accounts named on a case) record opinions; only an admin decides, never the proposer.
Readers and agency systems get 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import g, request

from access_api.api.base import Instant, PageQuery, identity, page_of, paged, requires, services
from access_api.api.submissions import binary_body
from access_api.services.base import UserRole
from access_api.services.body_limits import BodyKind
from access_api.services.disposal import appraisal, cases, execution, holds
from preservation.catalog.vocab import CouncilOpinion, DisposalCaseStatus, DisposalReason

bp = APIBlueprint("disposal", __name__, url_prefix="/api/v1", tag="disposal")

TEXT = validators.Regexp(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*$",
                         error="control characters and lone surrogates are not accepted")
CODE = fields.String(required=True, validate=[validators.Length(min=1, max=100), TEXT],
                     metadata={"description": "arcFileCode hoặc mã hồ sơ (fileCode)"})
ERRORS = {401: "Chưa đăng nhập (AUTH003)",
          403: "Không có quyền (AUTH004, DES009, DES010)",
          404: "Không tìm thấy (DES001, DES002, DES023)",
          409: "Sai thứ tự (DES003–DES008, DES011–DES013, DES017–DES019, DES024, DES027, DES028)",
          422: "Dữ liệu không hợp lệ (API001, DES014–DES016, DES026)",
          503: "Vị trí lưu trữ gặp sự cố (DES020)"}
JSON_LIMIT = 1 << 20
DECISION_LIMIT = cases.MAX_DECISION_BYTES


@bp.before_request
def bounded_bodies() -> None:
    """Bodies here are small JSON, or one decision PDF of at most 20 MiB: anything larger is
    refused (413, API004) before it is read."""
    decision = request.path.endswith("/decision")
    request.max_content_length = DECISION_LIMIT if decision else JSON_LIMIT
    g.body_kind = BodyKind.FILE if decision else BodyKind.JSON


class ScanOut(Schema):
    expired = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    listed = fields.Integer(required=True)
    codes = fields.List(fields.String(), required=True)
    skipped_held = fields.Integer(required=True)
    today = fields.String(required=True)


class ListingOut(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    fond_code = fields.String(allow_none=True)
    start_date = fields.String(allow_none=True)
    end_date = fields.String(allow_none=True)
    maintenance = fields.String(required=True)
    retention_years = fields.Integer(allow_none=True)
    expires_on = fields.String(allow_none=True)
    reason = fields.String(required=True,
                           validate=validators.OneOf([r.value for r in DisposalReason]))
    duplicate_of = fields.String(allow_none=True)
    listed_at = Instant(allow_none=True)
    status = fields.String(required=True)
    case = fields.String(allow_none=True)


class ListingQuery(PageQuery):
    fonds = fields.String(load_default=None, validate=[validators.Length(min=1, max=20), TEXT])


class HoldIn(Schema):
    record = CODE
    reason = fields.String(required=True, validate=[validators.Length(min=1, max=2000), TEXT])


class LiftIn(Schema):
    reason = fields.String(required=True, validate=[validators.Length(min=1, max=2000), TEXT])


class HoldOut(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    reason = fields.String(required=True)
    placed_by = fields.String(required=True)
    placed_at = Instant(allow_none=True)
    lifted_by = fields.String(allow_none=True)
    lifted_at = Instant(allow_none=True)
    lift_reason = fields.String(allow_none=True)
    active = fields.Boolean(required=True)


class HoldQuery(PageQuery):
    active = fields.Boolean(load_default=None, allow_none=True)


class CaseIn(Schema):
    title = fields.String(required=True, validate=[validators.Length(min=1, max=500), TEXT])
    explanation = fields.String(required=True,
                                validate=[validators.Length(min=1, max=100_000), TEXT],
                                metadata={"description": "Bản thuyết minh tài liệu hết giá trị"})
    records = fields.List(fields.String(validate=[validators.Length(min=1, max=100), TEXT]),
                          required=True, validate=validators.Length(min=1, max=cases.MAX_RECORDS))
    council = fields.List(fields.String(validate=[validators.Length(min=1, max=80), TEXT]),
                          required=True, validate=validators.Length(min=1, max=cases.MAX_COUNCIL),
                          metadata={"description": "Tên đăng nhập các thành viên Hội đồng xét hủy"})


class RecordIn(Schema):
    record = CODE


class OpinionIn(Schema):
    opinion = fields.String(required=True,
                            validate=validators.OneOf([o.value for o in CouncilOpinion]))
    comment = fields.String(load_default=None, allow_none=True,
                            validate=[validators.Length(max=2000), TEXT])


class DecisionQuery(Schema):
    number = fields.String(required=True, validate=[validators.Length(min=1, max=50), TEXT],
                           metadata={"description": "Số quyết định hủy"})
    date = fields.Date(required=True, metadata={"description": "Ngày quyết định (YYYY-MM-DD)"})


class CaseRecordOut(Schema):
    code = fields.String(required=True)
    title = fields.String(required=True)
    maintenance = fields.String(required=True)
    state = fields.String(required=True)
    added_by = fields.String(required=True)


class MemberOut(Schema):
    username = fields.String(required=True)
    opinion = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    opinion_at = Instant(allow_none=True)


class DecisionOut(Schema):
    number = fields.String(required=True)
    date = fields.String(required=True)
    sha256 = fields.String(required=True)
    key = fields.String(required=True)
    signer = fields.String(required=True)
    decided_by = fields.String(required=True)
    decided_at = fields.String(required=True)
    deadline = fields.String(required=True)
    size = fields.Integer(required=True)


class TombstoneOut(Schema):
    code = fields.String(required=True)
    file_code = fields.String(required=True)
    fond_code = fields.String(allow_none=True)
    objid = fields.String(allow_none=True)
    title = fields.String(required=True)
    maintenance = fields.String(required=True)
    retention_years = fields.Integer(allow_none=True)
    start_date = fields.String(allow_none=True)
    end_date = fields.String(allow_none=True)
    documents = fields.List(fields.Dict(), required=True)
    files = fields.List(fields.Dict(), required=True)
    locations = fields.Dict(required=True)
    decision = fields.Dict(required=True)
    executed_by = fields.String(required=True)
    executed_at = Instant(allow_none=True)


class CaseOut(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    explanation = fields.String(required=True)
    proposer = fields.String(required=True)
    status = fields.String(required=True,
                           validate=validators.OneOf([s.value for s in DisposalCaseStatus]))
    created_at = Instant(allow_none=True)
    records = fields.List(fields.Nested(CaseRecordOut), required=True)
    council = fields.List(fields.Nested(MemberOut), required=True)
    decisions = fields.List(fields.Nested(DecisionOut), required=True)
    decided_by = fields.String(allow_none=True)
    decided_at = Instant(allow_none=True)
    deadline = Instant(allow_none=True)
    executed_by = fields.String(allow_none=True)
    executed_at = Instant(allow_none=True)
    record_key = fields.String(allow_none=True,
                               metadata={"description": "Thư mục hồ sơ hủy trong kho lưu trữ"})
    tombstones = fields.List(fields.Nested(TombstoneOut), required=True)


class CaseQuery(PageQuery):
    status = fields.String(load_default=None,
                           validate=validators.OneOf([s.value for s in DisposalCaseStatus]))


ListingPage = page_of(ListingOut, "DisposalListingPage")
HoldPage = page_of(HoldOut, "LegalHoldPage")
CasePage = page_of(CaseOut, "DisposalCasePage")
MANAGERS = (UserRole.ARCHIVIST,)
STAFF = (UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)


@bp.post("/disposal/scan")
@requires(*MANAGERS)
@bp.output(ScanOut)
@bp.doc(summary="Rà soát tài liệu hết giá trị (Scan for expired and duplicate records)",
        responses=ERRORS)
def scan() -> dict[str, Any]:
    return appraisal.scan(services(), identity()).to_dict()


@bp.get("/disposal/listing")
@requires(*MANAGERS)
@bp.input(ListingQuery, location="query", arg_name="query")
@bp.output(ListingPage)
@bp.doc(summary="Danh mục tài liệu hết giá trị (Records of no further value)", responses=ERRORS)
def listing(query: dict[str, Any]) -> dict[str, Any]:
    rows, total = appraisal.list_listed(services(), identity(), fonds=query["fonds"],
                                        page=query["page"], size=query["size"])
    return paged([r.to_dict() for r in rows], total, query["page"], query["size"])


@bp.post("/disposal/holds")
@requires(*MANAGERS)
@bp.input(HoldIn, location="json", arg_name="body")
@bp.output(HoldOut, status_code=201)
@bp.doc(summary="Đặt lệnh phong tỏa (Place a legal hold)", responses=ERRORS)
def place_hold(body: dict[str, Any]) -> dict[str, Any]:
    return holds.place(services(), identity(), body["record"], body["reason"]).to_dict()


@bp.get("/disposal/holds")
@requires(*MANAGERS)
@bp.input(HoldQuery, location="query", arg_name="query")
@bp.output(HoldPage)
@bp.doc(summary="Các lệnh phong tỏa (Legal holds)", responses=ERRORS)
def list_holds(query: dict[str, Any]) -> dict[str, Any]:
    rows, total = holds.list_holds(services(), identity(), active=query["active"],
                                   page=query["page"], size=query["size"])
    return paged([r.to_dict() for r in rows], total, query["page"], query["size"])


@bp.post("/disposal/holds/<int:hold_id>/lift")
@requires(*MANAGERS)
@bp.input(LiftIn, location="json", arg_name="body")
@bp.output(HoldOut)
@bp.doc(summary="Gỡ lệnh phong tỏa (Lift a legal hold)", responses=ERRORS)
def lift_hold(hold_id: int, body: dict[str, Any]) -> dict[str, Any]:
    return holds.lift(services(), identity(), hold_id, body["reason"]).to_dict()


@bp.post("/disposal/cases")
@requires(*MANAGERS)
@bp.input(CaseIn, location="json", arg_name="body")
@bp.output(CaseOut, status_code=201)
@bp.doc(summary="Lập hồ sơ hủy (Propose a destruction case)", responses=ERRORS)
def create_case(body: dict[str, Any]) -> dict[str, Any]:
    return cases.create(services(), identity(), title=body["title"],
                        explanation=body["explanation"], records=body["records"],
                        council=body["council"])


@bp.get("/disposal/cases")
@requires(*STAFF)
@bp.input(CaseQuery, location="query", arg_name="query")
@bp.output(CasePage)
@bp.doc(summary="Các hồ sơ hủy (Destruction cases)", responses=ERRORS)
def list_cases(query: dict[str, Any]) -> dict[str, Any]:
    rows, total = cases.list_cases(services(), identity(), status=query["status"],
                                   page=query["page"], size=query["size"])
    return paged(rows, total, query["page"], query["size"])


@bp.get("/disposal/cases/<case_id>")
@requires(*STAFF)
@bp.output(CaseOut)
@bp.doc(summary="Một hồ sơ hủy (A destruction case)", responses=ERRORS)
def get_case(case_id: str) -> dict[str, Any]:
    return cases.get(services(), identity(), case_id)


@bp.post("/disposal/cases/<case_id>/records")
@requires(*MANAGERS)
@bp.input(RecordIn, location="json", arg_name="body")
@bp.output(CaseOut)
@bp.doc(summary="Thêm hồ sơ vào hồ sơ hủy (Add a record to a case)", responses=ERRORS)
def add_record(case_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return cases.add_record(services(), identity(), case_id, body["record"])


@bp.post("/disposal/cases/<case_id>/opinions")
@requires(*STAFF)
@bp.input(OpinionIn, location="json", arg_name="body")
@bp.output(CaseOut)
@bp.doc(summary="Ý kiến thành viên Hội đồng xét hủy (A council member's opinion)",
        responses=ERRORS)
def record_opinion(case_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return cases.record_opinion(services(), identity(), case_id, body["opinion"],
                                body["comment"])


@bp.post("/disposal/cases/<case_id>/decision")
@requires(UserRole.ADMIN)
@bp.input(DecisionQuery, location="query", arg_name="query")
@binary_body("application/pdf", "application/octet-stream", min_length=1)
@bp.output(CaseOut)
@bp.doc(summary="Quyết định hủy đã ký số (The competent person's signed decision)",
        description="The body is the decision PDF, digitally signed (at most 20 MiB); an "
                    "admin who did not propose the case uploads it.",
        responses={**ERRORS, 413: "Tệp quá lớn (API004)"})
def decide(case_id: str, query: dict[str, Any]) -> dict[str, Any]:
    data = request.get_data(cache=False)
    date: dt.date = query["date"]
    return cases.decide(services(), identity(), case_id, data=data, number=query["number"],
                        date=date)


@bp.post("/disposal/cases/<case_id>/execute")
@requires(*MANAGERS)
@bp.output(CaseOut)
@bp.doc(summary="Thực hiện hủy (Execute an approved case)", responses=ERRORS)
def execute(case_id: str) -> dict[str, Any]:
    return execution.execute(services(), identity(), case_id)
