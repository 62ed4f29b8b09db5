"""Công việc và biên bản giao nhận (jobs and receipts).

An agency system polls its job here until it is accepted or rejected, then fetches the receipt
(biên bản giao nhận) as JSON or PDF. An agency sees only its own agency's jobs; staff see all.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response

from access_api import receipt_pdf
from access_api.api.base import (
    Instant,
    PageQuery,
    identity,
    page_of,
    paged,
    requires,
    services,
)
from access_api.errors import lang
from access_api.services import jobs as service
from access_api.services.base import UserRole

bp = APIBlueprint("jobs", __name__, url_prefix="/api/v1" or None, tag="jobs")

READERS_OF_JOBS = (UserRole.AGENCY_SUBMITTER, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)
STATES = [s.value for s in service.JobState]


class IssueOut(Schema):
    code = fields.String(required=True)
    severity = fields.String(required=True)
    path = fields.String(required=True)
    message = fields.String(required=True)
    message_en = fields.String(required=True)


class JobOut(Schema):
    id = fields.String(required=True)
    state = fields.String(required=True, validate=validators.OneOf(STATES))
    step = fields.String(allow_none=True, metadata={"description": "Bước đang chạy, hoặc bước "
                                                    "đã từ chối gói"})
    progress = fields.Float(required=True, validate=validators.Range(min=0, max=1))
    objid = fields.String(allow_none=True)
    agency = fields.String(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    created_at = Instant(allow_none=True)
    started_at = Instant(allow_none=True)
    finished_at = Instant(allow_none=True)
    attempts = fields.Integer(required=True)
    issues = fields.List(fields.Nested(IssueOut), required=True)
    issues_total = fields.Integer(required=True)
    receipt_url = fields.String(allow_none=True)


JobPage = page_of(JobOut, "JobPage")


class JobQuery(PageQuery):
    state = fields.String(load_default=None, validate=validators.OneOf(STATES))


def _job(view: service.JobView) -> dict[str, Any]:
    accepted = view.api_state is service.JobState.ACCEPTED
    english = lang() == "en"
    return {"id": view.id, "state": view.api_state.value, "step": view.step,
            "progress": view.progress, "objid": view.objid, "agency": view.agency,
            "submitted_by": view.created_by, "created_at": view.created_at,
            "started_at": view.started_at, "finished_at": view.finished_at,
            "attempts": view.attempts,
            "issues": [{"code": i.code, "severity": i.severity, "path": i.path,
                        "message": i.message_en if english else i.message,
                        "message_en": i.message_en} for i in view.issues],
            "issues_total": view.issues_total,
            "receipt_url": f"/api/v1/jobs/{view.id}/receipt" if accepted else None}


@bp.get("/jobs")
@bp.doc(summary="Danh sách công việc (jobs), mới nhất trước",
        responses={401: "No token", 403: "A reader"})
@bp.input(JobQuery, location="query", arg_name="query")
@bp.output(JobPage)
@requires(*READERS_OF_JOBS)
def list_jobs(query: dict[str, Any]) -> dict[str, Any]:
    state = service.JobState(query["state"]) if query.get("state") else None
    views, total = service.page_jobs(services(), identity(), state=state, page=query["page"],
                                     size=query["size"])
    return paged([_job(v) for v in views], total, query["page"], query["size"])


@bp.get("/jobs/<job_id>")
@bp.doc(summary="Một công việc: trạng thái, bước, tiến độ, báo cáo",
        responses={401: "No token", 403: "A reader", 404: "Unknown, or another agency's"})
@bp.output(JobOut)
@requires(*READERS_OF_JOBS)
def show_job(job_id: str) -> dict[str, Any]:
    return _job(service.show_job(services(), identity(), job_id))


class ReceiptFileOut(Schema):
    path = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class PartyOut(Schema):
    code = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class ReceiptOut(Schema):
    job = fields.String(required=True)
    objid = fields.String(required=True)
    arcFileCode = fields.String(allow_none=True)  # noqa: N815 - the TT 05 element name
    title = fields.String(allow_none=True)
    agency = fields.Nested(PartyOut, required=True)
    archive = fields.Nested(PartyOut, required=True)
    accepted_at = Instant(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    total_files = fields.Integer(required=True)
    total_size = fields.Integer(required=True)
    files = fields.List(fields.Nested(ReceiptFileOut), required=True)


@bp.get("/jobs/<job_id>/receipt")
@bp.doc(summary="Biên bản giao nhận (receipt) của gói đã được tiếp nhận",
        responses={401: "No token", 403: "A reader", 404: "Unknown job",
                   409: "Not accepted (yet)"})
@bp.output(ReceiptOut)
@requires(*READERS_OF_JOBS)
def receipt(job_id: str) -> dict[str, Any]:
    r = service.receipt(services(), identity(), job_id)
    return {"job": r.job_id, "objid": r.objid, "arcFileCode": r.arc_file_code,
            "title": r.title, "agency": {"code": r.agency_id, "name": r.agency_name},
            "archive": {"code": r.archive_code, "name": r.archive_name},
            "accepted_at": r.accepted_at, "submitted_by": r.submitted_by,
            "total_files": len(r.files), "total_size": r.total_size,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in r.files]}


PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The receipt as a PDF",
          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
    401: {"description": "No token"}, 403: {"description": "A reader"},
    404: {"description": "Unknown job"}, 409: {"description": "Not accepted (yet)"}}


@bp.get("/jobs/<job_id>/receipt.pdf")
@bp.doc(summary="Biên bản giao nhận dạng PDF (A4)",
        responses=PDF_RESPONSES)
@requires(*READERS_OF_JOBS)
def receipt_pdf_view(job_id: str) -> Response:
    r = service.receipt(services(), identity(), job_id)
    return Response(receipt_pdf.render(r), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="bien-ban-giao-nhan-{r.job_id}.pdf"'})
