"""Yêu cầu khai thác tài liệu (access requests): file, list, read, approve, refuse, withdraw.
Parse, call one service (``access_api.services.access_requests``), render.

``requires`` sits right under the route decorator, above ``input``: a caller without a token
gets 401 before its body is looked at, and a role that may not act gets 403 whatever it sent."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import request

from access_api.api.base import Instant, PageQuery, identity, page_of, paged, requires, services
from access_api.services import access_requests as service
from access_api.services.base import UserRole
from preservation.catalog.vocab import AccessRequestStatus
from preservation.metadata.codelists import codelist

# XML 1.0 cannot carry these (the values go into the DIP's EAD) and PostgreSQL refuses NUL
TEXT = validators.Regexp(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*$",
                         error="XML 1.0 cannot carry a control character or a lone surrogate")
bp = APIBlueprint("access_requests", __name__, url_prefix="/api/v1", tag="access-requests")

ERRORS = {401: "Chưa đăng nhập (AUTH003)", 403: "Không có quyền (AUTH004, REQ004, REQ008)",
          404: "Không tìm thấy (GEN002)", 409: "Sai trạng thái (REQ005)"}

JSON_LIMIT = 1 << 20  # a request body here is a few hundred codes at most, never 64 GiB


@bp.before_request
def small_bodies() -> None:
    """Bodies of these endpoints are small JSON: a larger one is refused (413, API004) before
    it is read, whatever the upload limit of the submission endpoints."""
    request.max_content_length = JSON_LIMIT


class RequestIn(Schema):
    """The DIP EAD request fields (TT 05 Phụ lục V) and the documents asked for."""

    documents = fields.List(fields.String(validate=[validators.Length(min=1, max=100), TEXT]),
                            required=True,
                            validate=validators.Length(min=1, max=service.MAX_DOCUMENTS),
                            metadata={"description": "docCode (hoặc arcDocCode) của tài liệu"})
    purpose = fields.String(required=True, validate=validators.OneOf(codelist("purpose").codes),
                            metadata={"description": "01 Cá nhân, 02 Công vụ, 03 Công vụ đặc biệt"})
    purposeContent = fields.String(load_default=None, allow_none=True,
                                   validate=[validators.Length(max=500), TEXT])
    feeObjectType = fields.String(load_default=None, allow_none=True,
                                  validate=validators.OneOf(codelist("feeObjectType").codes),
                                  metadata={"description": "Đối tượng, 01–10"})
    researchTopic = fields.String(load_default=None, allow_none=True,
                                  validate=[validators.Length(max=250), TEXT])
    description = fields.String(load_default=None, allow_none=True,
                                validate=[validators.Length(max=2000), TEXT])


class RequestOut(Schema):
    id = fields.String(required=True)
    requester = fields.String(required=True)
    status = fields.String(required=True,
                           validate=validators.OneOf([s.value for s in AccessRequestStatus]))
    expired = fields.Boolean(required=True)
    documents = fields.List(fields.String(), required=True)
    purpose = fields.String(required=True)
    purposeContent = fields.String(allow_none=True)
    feeObjectType = fields.String(allow_none=True)
    researchTopic = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    requestDate = Instant(required=True)
    due_by = fields.String(allow_none=True, metadata={
        "description": "Hạn trả lời (6 ngày làm việc, TT 05 Chương VI) khi đang chờ duyệt"})
    decided_by = fields.String(allow_none=True)
    decided_at = Instant(allow_none=True)
    reason = fields.String(allow_none=True)
    expires_at = Instant(allow_none=True)


RequestPage = page_of(RequestOut, "AccessRequestPage")


class ListQuery(PageQuery):
    mine = fields.Boolean(load_default=False)
    status = fields.String(load_default=None,
                           validate=validators.OneOf([s.value for s in AccessRequestStatus]))


class ApproveIn(Schema):
    reason = fields.String(load_default=None, allow_none=True,
                           validate=[validators.Length(max=2000), TEXT])
    # with its offset: a time without one, read as UTC, let an approval meant to end at
    # midnight in Hà Nội (+07:00) open mode 02 content for seven hours more
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "ISO 8601 với múi giờ (2027-01-01T00:00:00+07:00)"})
    valid_days = fields.Integer(load_default=None, allow_none=True,
                                validate=validators.Range(min=1, max=service.MAX_VALID_DAYS))


class RefuseIn(Schema):
    reason = fields.String(required=True, validate=[validators.Length(min=1, max=2000), TEXT])


def _out(view: service.RequestView) -> dict[str, Any]:
    return view.to_dict()


@bp.post("/access-requests")
@requires()
@bp.input(RequestIn, location="json", arg_name="body")
@bp.output(RequestOut, status_code=201)
@bp.doc(summary="Lập yêu cầu khai thác (File an access request)", responses=ERRORS)
def create_request(body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.create(services(), identity(), documents=body["documents"],
                               purpose=body["purpose"], purpose_content=body["purposeContent"],
                               fee_object_type=body["feeObjectType"],
                               research_topic=body["researchTopic"],
                               description=body["description"]))


@bp.get("/access-requests")
@requires()
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(RequestPage)
@bp.doc(summary="Danh sách yêu cầu khai thác (List access requests)", responses=ERRORS)
def list_requests(query: dict[str, Any]) -> dict[str, Any]:
    status = AccessRequestStatus(query["status"]) if query["status"] else None
    views, total = service.list_requests(services(), identity(), mine=query["mine"],
                                         status=status, page=query["page"], size=query["size"])
    return paged([_out(v) for v in views], total, query["page"], query["size"])


@bp.get("/access-requests/<request_id>")
@requires()
@bp.output(RequestOut)
@bp.doc(summary="Một yêu cầu khai thác (An access request)", responses=ERRORS)
def get_request(request_id: str) -> dict[str, Any]:
    return _out(service.get(services(), identity(), request_id))


@bp.post("/access-requests/<request_id>/approve")
@requires(UserRole.ARCHIVIST)
@bp.input(ApproveIn, location="json", arg_name="body")
@bp.output(RequestOut)
@bp.doc(summary="Duyệt yêu cầu (Approve, with a period of use)", responses=ERRORS)
def approve_request(request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.approve(services(), identity(), request_id, reason=body["reason"],
                                expires_at=body["expires_at"], valid_days=body["valid_days"]))


@bp.post("/access-requests/<request_id>/refuse")
@requires(UserRole.ARCHIVIST)
@bp.input(RefuseIn, location="json", arg_name="body")
@bp.output(RequestOut)
@bp.doc(summary="Từ chối yêu cầu (Refuse, with a reason)", responses=ERRORS)
def refuse_request(request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return _out(service.refuse(services(), identity(), request_id, reason=body["reason"]))


@bp.post("/access-requests/<request_id>/withdraw")
@requires()
@bp.output(RequestOut)
@bp.doc(summary="Rút yêu cầu (Withdraw a pending request)", responses=ERRORS)
def withdraw_request(request_id: str) -> dict[str, Any]:
    return _out(service.withdraw(services(), identity(), request_id))
