"""Nộp gói SIP qua HTTP, tải lên có thể tiếp tục (submissions, resumable uploads).

``POST /api/v1/submissions`` takes a serialised bag as the request body, streamed to the
archive's staging file. ``/api/v1/uploads`` is tus 1.0.0 (core, creation, termination) for
bags too large to send in one go: a broken connection keeps what arrived, and the client asks
``HEAD`` where to resume.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response, request
from werkzeug.exceptions import ClientDisconnected

from access_api.api.base import Instant, identity, requires, services
from access_api.errors import problem
from access_api.services import submissions as service
from access_api.services import uploads
from access_api.services.base import UserRole
from preservation.issues import Issue

bp = APIBlueprint("submissions", __name__, url_prefix="/api/v1" or None, tag="submissions")

SUBMITTERS = (UserRole.AGENCY_SUBMITTER, UserRole.ARCHIVIST)
TUS = {"Tus-Resumable": uploads.TUS_VERSION}
BINARY = {"type": "string", "format": "binary"}
# a submission sent again with the same key (by the same account) gets the first one's job
IDEMPOTENCY_KEY = "Idempotency-Key"


def binary_body(*content_types: str, min_length: int = 0,
                ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document a raw request body (the view reads ``request.stream`` itself)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = getattr(view, "_spec", None) or {}
        body = {**BINARY, "minLength": min_length} if min_length else BINARY
        view._spec = {**spec, "body": body,  # type: ignore[attr-defined]
                      "content_type": list(content_types)}
        return view

    return decorate


def headers_doc(schema: type[Schema]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the tus headers a view reads itself: the service checks them, with the codes
    tus clients expect (400 ``SUB008``), which APIFlask's own validation (422) would not give."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        spec = getattr(view, "_spec", None) or {}
        view._spec = {**spec, "args": [*spec.get("args", []),  # type: ignore[attr-defined]
                                       (schema, "headers")]}
        return view

    return decorate


class CreateHeaders(Schema):
    # the documented maximum is KHOSO_MAX_UPLOAD_BYTES' default; an instance set lower says
    # 413 past its own (Tus-Max-Size tells a client which)
    upload_length = fields.Integer(required=True, data_key="Upload-Length",
                                   validate=validators.Range(min=1, max=64 * 2**30),
                                   metadata={"description": "Bytes the upload will hold, at "
                                                            "most Tus-Max-Size"})


class PatchHeaders(Schema):
    upload_offset = fields.Integer(required=True, data_key="Upload-Offset",
                                   validate=validators.Range(min=0),
                                   metadata={"description": "Bytes the upload holds already "
                                                            "(HEAD says)"})


class Body:
    """``request.stream`` whose client going away reads as a broken connection (an
    ``OSError``), which the service reports with the bytes received (``SUB005``)."""

    def __init__(self) -> None:
        self.stream = request.stream

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self.stream.read(size)
        except ClientDisconnected as exc:
            raise ConnectionResetError("the client disconnected") from exc

    def readinto(self, buffer: memoryview, /) -> int:
        """The body's next bytes into ``buffer`` (Werkzeug's stream, or the server's spool
        file, reads into it in place)."""
        try:
            readinto = getattr(self.stream, "readinto", None)
            if readinto is not None:
                return int(readinto(buffer) or 0)
            data = self.stream.read(len(buffer))
            buffer[:len(data)] = data
            return len(data)
        except ClientDisconnected as exc:
            raise ConnectionResetError("the client disconnected") from exc

    def spooled(self) -> tuple[int, int] | None:
        """The server's file holding the whole body, as (descriptor, offset of the body's
        first byte): waitress spools a body past its ``inbuf_overflow`` to a temporary file
        and calls the app once the body is complete (``wsgi.input_terminated``). None for a
        body in memory; a socket is no regular file and the service reads it instead."""
        raw = request.environ.get("wsgi.input")
        if raw is None or not request.environ.get("wsgi.input_terminated"):
            return None
        try:
            return raw.fileno(), raw.tell()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
            return None


@bp.after_request
def tus_resumable(response: Response) -> Response:
    """tus: every answer about an upload names the protocol version (errors too)."""
    if request.path.startswith("/api/v1/uploads"):
        response.headers.setdefault("Tus-Resumable", uploads.TUS_VERSION)
    return response


@bp.errorhandler(service.PayloadTooLarge)
def too_large(exc: service.PayloadTooLarge) -> Response:
    return problem(exc.issue, 413)


@bp.errorhandler(service.UnsupportedType)
def unsupported(exc: service.UnsupportedType) -> Response:
    return problem(exc.issue, 415)


class SubmittedOut(Schema):
    job = fields.String(required=True, metadata={"description": "Mã công việc (job id)"})
    status_url = fields.String(required=True)


def _job_url(job_id: str) -> str:
    return f"/api/v1/jobs/{job_id}"


@bp.post("/submissions")
@bp.doc(summary="Nộp lưu một túi BagIt đóng gói (submit a serialised bag)",
        description="The body is the bag itself (`application/zip`, `application/x-tar` or "
                    "`application/gzip`), streamed to staging; the ingest job is queued and "
                    "its URL returned. An agency account submits only its own agency's bags.",
        responses={202: "Queued", 400: "Empty or cut short", 401: "No token",
                   403: "Not a submitter, or another agency's bag", 413: "Too large",
                   415: "Not a serialised bag", 503: "Queue full or the archive down"})
@binary_body(*service.ACCEPTED, min_length=1)
@bp.output(SubmittedOut, status_code=202)
@requires(*SUBMITTERS)
def submit() -> tuple[dict[str, str], int, dict[str, str]]:
    job_id = service.submit_stream(services(), identity(), Body(),
                                   request.headers.get("Content-Type"), request.content_length,
                                   request.headers.get(IDEMPOTENCY_KEY))
    url = _job_url(job_id)
    return {"job": job_id, "status_url": url}, 202, {"Location": url}


class KeyedOut(Schema):
    found = fields.Boolean(required=True)
    job = fields.String(allow_none=True, metadata={"description": "Mã công việc (job id)"})
    status_url = fields.String(allow_none=True)


@bp.get("/submissions/keys/<key>")
@bp.doc(summary="Tra cứu lần nộp theo khoá chống trùng (look a submission up by its "
                "Idempotency-Key)",
        description="Whether this account's earlier `POST /submissions` with this "
                    "`Idempotency-Key` created a job, and which: a sender that did not hear "
                    "the answer asks before sending the bag again.",
        responses={200: "Found or not (never, for a key a submission would refuse)",
                   401: "No token", 403: "Not a submitter"})
@bp.output(KeyedOut)
@requires(*SUBMITTERS)
def submission_by_key(key: str) -> dict[str, Any]:
    job_id = (service.submitted_under(services(), identity(), key)
              if service.KEY.fullmatch(key) else None)
    return {"found": job_id is not None, "job": job_id,
            "status_url": _job_url(job_id) if job_id else None}


# --- tus 1.0.0 ---


class UploadOut(Schema):
    id = fields.String(required=True)
    length = fields.Integer(required=True)
    offset = fields.Integer(required=True)
    complete = fields.Boolean(required=True)
    content_type = fields.String(required=True)
    filename = fields.String(allow_none=True)
    job = fields.String(allow_none=True, metadata={"description": "Set once submitted"})
    status_url = fields.String(allow_none=True)
    created_at = Instant(required=True)
    expires_at = Instant(required=True)


def _upload(view: uploads.UploadView) -> dict[str, Any]:
    return {"id": view.id, "length": view.length, "offset": view.offset,
            "complete": view.complete, "content_type": view.content_type,
            "filename": view.filename, "job": view.job_id,
            "status_url": _job_url(view.job_id) if view.job_id else None,
            "created_at": view.created_at, "expires_at": view.expires_at}


def _tus_headers(view: uploads.UploadView) -> dict[str, str]:
    headers = {**TUS, "Upload-Offset": str(view.offset), "Upload-Length": str(view.length),
               "Cache-Control": "no-store"}
    if view.job_id:
        headers["Khoso-Job"] = view.job_id
    return headers


def _version_refused() -> Response | None:
    """tus: a request naming another protocol version gets 412 (none named: taken as 1.0.0)."""
    version = request.headers.get("Tus-Resumable")
    if version is None or version.strip() == uploads.TUS_VERSION:
        return None
    response = problem(Issue("SUB012", "", {"version": version[:20]}), 412)
    response.headers["Tus-Version"] = uploads.TUS_VERSION
    return response


@bp.route("/uploads", methods=["OPTIONS"])
@bp.doc(summary="Khả năng tus của máy chủ (tus discovery)", responses={204: "tus headers"})
def upload_options() -> tuple[str, int, dict[str, str]]:
    return "", 204, {**TUS, "Tus-Version": uploads.TUS_VERSION,
                     "Tus-Max-Size": str(services().settings.max_upload_bytes),
                     "Tus-Extension": ",".join(uploads.TUS_EXTENSIONS)}


@bp.post("/uploads", provide_automatic_options=False)
@bp.doc(summary="Tạo phiên tải lên có thể tiếp tục (tus creation)",
        description="Headers `Upload-Length` (bytes) and `Upload-Metadata` (`filetype` one "
                    "of the bag types, `filename`; values base64). The upload is its "
                    "creator's alone and expires after KHOSO_UPLOAD_EXPIRY_DAYS.",
        responses={400: "Bad header", 401: "No token", 403: "Not a submitter",
                   413: "Too large", 415: "Not a serialised bag", 412: "tus version",
                   503: "Queue full or the archive down"})
@headers_doc(CreateHeaders)
@bp.output(UploadOut, status_code=201)
@requires(*SUBMITTERS)
def create_upload() -> Any:
    if (refused := _version_refused()) is not None:
        return refused
    view = uploads.create_upload(services(), identity(), request.headers.get("Upload-Length"),
                                 request.headers.get("Upload-Metadata"))
    return _upload(view), 201, {**_tus_headers(view), "Location": f"/api/v1/uploads/{view.id}"}


@bp.get("/uploads/<upload_id>")
@bp.doc(summary="Trạng thái phiên tải lên (tus HEAD: Upload-Offset)",
        responses={401: "No token", 403: "Not a submitter", 404: "Unknown, expired or not "
                   "the caller's"})
@bp.output(UploadOut)
@requires(*SUBMITTERS)
def show_upload(upload_id: str) -> Any:
    view = uploads.show_upload(services(), identity(), upload_id)
    return _upload(view), 200, _tus_headers(view)


@bp.patch("/uploads/<upload_id>")
@bp.doc(summary="Gửi tiếp dữ liệu từ Upload-Offset (tus PATCH)",
        description="`Content-Type: application/offset+octet-stream` and `Upload-Offset`; "
                    "204 with the new `Upload-Offset`. The last byte submits the bag: its "
                    "job id comes in `Khoso-Job`.",
        responses={204: "Bytes kept", 400: "Bad header", 401: "No token",
                   403: "Not a submitter, or another agency's bag", 404: "Unknown upload",
                   409: "Offset mismatch or already submitted", 412: "tus version",
                   413: "Past the upload's length", 415: "Wrong content type",
                   503: "Queue full or the archive down"})
@binary_body(uploads.OFFSET_TYPE)
@headers_doc(PatchHeaders)
@requires(*SUBMITTERS)
def append_upload(upload_id: str) -> Any:
    if (refused := _version_refused()) is not None:
        return refused
    view = uploads.append(services(), identity(), upload_id, request.headers.get("Content-Type"),
                          request.headers.get("Upload-Offset"), Body(),
                          request.content_length)
    return "", 204, _tus_headers(view)


@bp.delete("/uploads/<upload_id>")
@bp.doc(summary="Hủy phiên tải lên (tus termination)",
        responses={204: "Removed", 401: "No token", 403: "Not a submitter",
                   404: "Unknown upload"})
@requires(*SUBMITTERS)
def delete_upload(upload_id: str) -> Any:
    if (refused := _version_refused()) is not None:
        return refused
    uploads.terminate(services(), identity(), upload_id)
    return "", 204, TUS
