"""Gói thông tin khai thác DIP (dissemination information packages): ask for one, follow it,
download it. Parse, call one service (``access_api.services.dips``), render."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response, request, send_file

from access_api.api.base import Instant, identity, requires, services
from access_api.services import dips as service
from access_api.services.access_requests import MAX_DOCUMENTS
from preservation.catalog.vocab import DipState
from preservation.metadata.codelists import codelist

# XML 1.0 cannot carry these (the values go into the DIP's EAD) and PostgreSQL refuses NUL
TEXT = validators.Regexp(r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*$",
                         error="XML 1.0 cannot carry a control character or a lone surrogate")
bp = APIBlueprint("dips", __name__, url_prefix="/api/v1", tag="dips")

ERRORS = {401: "Chưa đăng nhập (AUTH003)",
          403: "Không có quyền (DIP004, DIP005, DIP007, DIP211, DIP212, DIP213)",
          404: "Không tìm thấy (GEN002)",
          409: "Sai trạng thái (DIP003, DIP006)", 503: "Hàng đợi không sẵn sàng (DIP010)"}

JSON_LIMIT = 1 << 20  # a request body here is a few hundred codes at most, never 64 GiB


@bp.before_request
def small_bodies() -> None:
    """Bodies of these endpoints are small JSON: a larger one is refused (413, API004) before
    it is read, whatever the upload limit of the submission endpoints."""
    request.max_content_length = JSON_LIMIT


class DipIn(Schema):
    """Exactly one of ``request`` (an approved access request) or ``documents`` (public
    documents; staff: any). ``purpose`` and the rest describe a DIP made without a request."""

    request = fields.String(load_default=None, allow_none=True,
                            validate=[validators.Length(min=1, max=36), TEXT])
    documents = fields.List(fields.String(validate=[validators.Length(min=1, max=100), TEXT]),
                            load_default=None, allow_none=True,
                            validate=validators.Length(min=1, max=MAX_DOCUMENTS))
    purpose = fields.String(load_default="01",
                            validate=validators.OneOf(codelist("purpose").codes))
    purposeContent = fields.String(load_default=None, allow_none=True,
                                   validate=[validators.Length(max=500), TEXT])
    researchTopic = fields.String(load_default=None, allow_none=True,
                                  validate=[validators.Length(max=250), TEXT])


class DipQueuedOut(Schema):
    dip = fields.String(required=True)
    job = fields.String(required=True)
    status_url = fields.String(required=True)


class DipOut(Schema):
    id = fields.String(required=True)
    objid = fields.String(required=True)
    owner = fields.String(required=True)
    request = fields.String(allow_none=True)
    job = fields.String(allow_none=True)
    state = fields.String(required=True, validate=validators.OneOf([s.value for s in DipState]))
    documents = fields.List(fields.String(), required=True)
    created_at = Instant(required=True)
    ready_at = Instant(allow_none=True)
    expires_at = Instant(allow_none=True)
    size = fields.Integer(allow_none=True)
    sha256 = fields.String(allow_none=True)
    download_url = fields.String(allow_none=True)
    error = fields.Dict(allow_none=True)


@bp.post("/dips")
@requires()
@bp.input(DipIn, location="json", arg_name="body")
@bp.output(DipQueuedOut, status_code=202)
@bp.doc(summary="Yêu cầu tạo gói DIP (Ask for a DIP: a job builds it)",
        responses={**ERRORS, 422: "Dữ liệu không hợp lệ (DIP001)"})
def create_dip(body: dict[str, Any]) -> dict[str, Any]:
    return service.request_dip(services(), identity(), request_id=body["request"],
                               documents=body["documents"], purpose=body["purpose"],
                               purpose_content=body["purposeContent"],
                               research_topic=body["researchTopic"]).to_dict()


@bp.get("/dips/<dip_id>")
@requires()
@bp.output(DipOut)
@bp.doc(summary="Trạng thái gói DIP (State, size, SHA-256, expiry)", responses=ERRORS)
def get_dip(dip_id: str) -> dict[str, Any]:
    return service.show(services(), identity(), dip_id).to_dict()


@bp.get("/dips/<dip_id>/download")
@requires()
@bp.doc(summary="Tải gói DIP (the ZIP; its owner until it expires, or staff)", responses={  # type: ignore[arg-type]
    **ERRORS, 200: {"description": "Gói DIP (ZIP)", "content": {
        "application/zip": {"schema": {"type": "string", "format": "binary"}}}}})
def download_dip(dip_id: str) -> Response:
    found = service.download(services(), identity(), dip_id)
    response = send_file(found.path, mimetype="application/zip", as_attachment=True,
                         download_name=found.filename, etag=found.sha256, conditional=False,
                         max_age=0)
    response.headers["Digest"] = f"sha-256={found.sha256}"
    return response
