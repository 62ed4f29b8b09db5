"""Bảo quản: AIP, sự kiện PREMIS, kiểm tra (AIPs, events, audits).

For preservation officers (and administrators): each package once with its older versions under
it, one package's copies with their last fixity check, its PREMIS timeline, an audit of one
package queued for a worker, and the audit summary behind ``/healthz``.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields

from access_api.api.base import Instant, PageQuery, identity, page_of, paged, requires, services
from access_api.services import aips as aips_service
from access_api.services import audit as audit_service
from access_api.services.base import UserRole

bp = APIBlueprint("aips", __name__, url_prefix="/api/v1" or None, tag="aips")

OFFICER = UserRole.PRESERVATION_OFFICER
ERRORS = [401, 403]


class AipQuery(PageQuery):
    critical = fields.Boolean(load_default=None, metadata={
        "description": "true: only packages with no good copy left; false: only the others"})


class CopyOut(Schema):
    location = fields.String(required=True)
    key = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "the last check: ok, mismatch, missing, not_checked"})
    checked_at = Instant(allow_none=True)
    detail = fields.String(allow_none=True)


class VersionOut(Schema):
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    created_at = Instant(allow_none=True)
    file_count = fields.Integer(required=True)
    total_size = fields.Integer(required=True)
    critical = fields.Boolean(required=True)
    copies = fields.List(fields.Nested(CopyOut), required=True)


class AipItemOut(Schema):
    objid = fields.String(required=True)
    label = fields.String(allow_none=True)
    content_type = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "the newest version"})
    versions = fields.Integer(required=True)
    status = fields.String(required=True)
    critical = fields.Boolean(required=True)
    file_count = fields.Integer(required=True)
    total_size = fields.Integer(required=True)
    copies = fields.Integer(required=True)
    copies_ok = fields.Integer(required=True)
    created_at = Instant(allow_none=True)
    superseded = fields.List(fields.Nested(VersionOut), required=True)


class AipDetailOut(Schema):
    objid = fields.String(required=True)
    label = fields.String(allow_none=True)
    content_type = fields.String(required=True)
    critical = fields.Boolean(required=True)
    versions = fields.List(fields.Nested(VersionOut), required=True)
    events_url = fields.String(required=True)


class EventOut(Schema):
    type = fields.String(required=True)
    time = Instant(required=True)
    outcome = fields.String(required=True)
    agents = fields.List(fields.String(), required=True)
    version = fields.Integer(required=True)
    location = fields.String(allow_none=True)
    object = fields.String(allow_none=True)
    detail = fields.String(required=True)


class JobQueuedOut(Schema):
    job = fields.String(required=True)
    status_url = fields.String(required=True)


class LocationOut(Schema):
    location = fields.String(required=True)
    copies = fields.Integer(required=True)
    ok = fields.Integer(required=True)
    bad = fields.Integer(required=True)
    not_checked = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    last_check_at = Instant(allow_none=True)


class SummaryOut(Schema):
    period_days = fields.Integer(required=True)
    copies = fields.Integer(required=True)
    copies_ok = fields.Integer(required=True)
    bad_copies = fields.Integer(required=True)
    copies_overdue = fields.Integer(required=True)
    last_check_at = Instant(allow_none=True)
    critical_aips = fields.List(fields.String(), required=True)
    locations = fields.List(fields.Nested(LocationOut), required=True)
    catalog_incomplete = fields.Dict(allow_none=True)


AipPage = page_of(AipItemOut, "AipPage")
EventPage = page_of(EventOut, "EventPage")


@bp.get("/aips")
@bp.input(AipQuery, location="query", arg_name="query")
@bp.output(AipPage)
@bp.doc(responses=ERRORS)
@requires(OFFICER)
def list_aips(query: dict[str, Any]) -> dict[str, Any]:
    """Each package once (its newest version), the older versions under it."""
    items, total = aips_service.page_aips(services(), identity(), critical=query["critical"],
                                          page=query["page"], size=query["size"])
    return paged([i.to_dict() for i in items], total, query["page"], query["size"])


@bp.get("/aips/<objid>")
@bp.output(AipDetailOut)
@bp.doc(responses=[*ERRORS, 404])
@requires(OFFICER)
def get_aip(objid: str) -> dict[str, Any]:
    """Every version of a package with its copies and their last fixity check."""
    detail = aips_service.show_aip(services(), identity(), objid).to_dict()
    detail.pop("timeline")
    return {**detail, "events_url": f"/api/v1/aips/{objid}/events"}


@bp.get("/aips/<objid>/events")
@bp.input(PageQuery, location="query", arg_name="query")
@bp.output(EventPage)
@bp.doc(responses=[*ERRORS, 404])
@requires(OFFICER)
def aip_events(objid: str, query: dict[str, Any]) -> dict[str, Any]:
    """The PREMIS timeline of every version of a package, in time order."""
    events, total = aips_service.aip_events(services(), identity(), objid, page=query["page"],
                                            size=query["size"])
    return paged(events, total, query["page"], query["size"])


@bp.post("/aips/<objid>/audit")
@bp.output(JobQueuedOut, status_code=202)
@bp.doc(responses=[*ERRORS, 404, 503])
@requires(OFFICER)
def audit_aip(objid: str) -> dict[str, Any]:
    """Queue a fixity audit of every copy of the package (nothing is repaired)."""
    job = audit_service.queue_aip_audit(services(), identity(), objid)
    return {"job": job, "status_url": f"/api/v1/jobs/{job}"}


@bp.get("/audit/summary")
@bp.output(SummaryOut)
@bp.doc(responses=ERRORS)
@requires(OFFICER)
def audit_summary() -> dict[str, Any]:
    """Per location the copies by their last check and the overdue ones; the critical AIPs."""
    return audit_service.summary(services(), identity()).to_dict()
