"""HTTP API of this area (#15/#16): parse, call one service, render.

``POST /api/v1/digitisations`` (#16): a ZIP of a digitisation folder (the hồ sơ sheet and one
folder of page images per document) as the request body, the hồ sơ code and fonds in the query;
the job it queues is polled at ``GET /api/v1/jobs/{id}``.
"""

from __future__ import annotations

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response, request

from access_api.api.base import identity, requires, services
from access_api.api.submissions import Body, SubmittedOut, binary_body
from access_api.errors import problem
from access_api.services import digitisation as service
from access_api.services.base import UserRole
from access_api.services.submissions import PayloadTooLarge, UnsupportedType
from ingest.digitise.importer import Options

bp = APIBlueprint("digitisation", __name__, url_prefix="/api/v1", tag="digitisation")


@bp.errorhandler(PayloadTooLarge)
def too_large(exc: PayloadTooLarge) -> Response:
    return problem(exc.issue, 413)


@bp.errorhandler(UnsupportedType)
def unsupported(exc: UnsupportedType) -> Response:
    return problem(exc.issue, 415)


class DigitisationQuery(Schema):
    hoso = fields.String(required=True, validate=validators.Length(min=1, max=100),
                         metadata={"description": "Mã hồ sơ (fileCode) of the digitised hồ sơ"})
    fond = fields.String(required=True, validate=validators.Length(min=1, max=20),
                         metadata={"description": "Mã phông (a fonds registered here)"})
    paper_code = fields.String(validate=validators.Length(min=1, max=100),
                               metadata={"description": "paperFileCode, if the sheet lacks it"})
    operator = fields.String(validate=validators.Length(min=1, max=200),
                             metadata={"description": "Who scanned (default: the caller)"})
    scanner = fields.String(validate=validators.Length(min=1, max=200),
                            metadata={"description": "The scanner used (make, model, serial)"})


@bp.post("/digitisations")
@bp.doc(summary="Số hóa một hồ sơ giấy thành gói AIP_hoso (digitise a paper hồ sơ)",
        description="The body is a ZIP (`application/zip`) of the digitisation folder: one "
                    "sheet (.csv/.xlsx/.json, the `khoso sip template` format, a `hoso` row and "
                    "a `doc` row per document whose `file` names its folder) and one folder of "
                    "page images (TIFF, JPEG, PNG) per document. Each document becomes a signed "
                    "two-layer PDF/A named `{hoso}.{ordinal}.pdf`, stored as an AIP_hoso with "
                    "confidenceLevel 02; the job is at the returned URL.",
        responses={202: "Queued", 400: "Empty or cut short", 401: "No token",
                   403: "Not an archivist", 409: "Hồ sơ already held (DIG112)",
                   413: "Too large", 415: "Not a ZIP",
                   422: "Bad hồ sơ or paper code, unknown fonds",
                   503: "Queue full or the archive down"})
@bp.input(DigitisationQuery, location="query", arg_name="query")
@binary_body(service.ZIP, min_length=1)
@bp.output(SubmittedOut, status_code=202)
@requires(UserRole.ARCHIVIST)
def create(query: dict[str, str]) -> tuple[dict[str, str], int, dict[str, str]]:
    who = identity()
    options = Options(file_code=query["hoso"], fond_code=query["fond"],
                      paper_file_code=query.get("paper_code"),
                      operator=query.get("operator") or who.actor, scanner=query.get("scanner"))
    job_id = service.submit_zip(services(), who, Body(), request.headers.get("Content-Type"),
                                request.content_length, options)
    url = f"/api/v1/jobs/{job_id}"
    return {"job": job_id, "status_url": url}, 202, {"Location": url}
