"""Tệp tài liệu, bản sao khai thác (files, dissemination copies).

Ranges (RFC 9110 §14): one ``bytes`` range is served as 206; a suffix longer than the file is
the whole file; a range starting at or past the end is 416 ``ACS003`` with
``Content-Range: bytes */size``. A malformed ``Range`` or one with several ranges is ignored
(§14.2 lets a server do so) and the whole file is sent: a client that asked for several parts
still gets correct bytes in one answer, and no multipart body is ever built. ``If-Range`` with
another ETag also sends the whole file. ``If-None-Match`` with the ETag (the SHA-256) answers
304 before anything is read from storage, and registers nothing; so does ``HEAD``. A cold
file whose block digests are known is streamed, verified block by block
(``access_api.services.stream``): its 200/206 is built here; a cached file's by Werkzeug.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from apiflask import APIBlueprint, Schema, fields, validators
from apiflask.schemas import FileSchema
from flask import Response, request
from werkzeug.http import parse_range_header
from werkzeug.wsgi import wrap_file

from access_api.api.auth import current_identity
from access_api.api.base import requires, services
from access_api.api.waitress_send import sendable
from access_api.errors import problem
from access_api.services import files as files_service
from access_api.services.stream import Streamed
from preservation.issues import Issue

bp = APIBlueprint("files", __name__, url_prefix="/api/v1", tag="files")


class FileQuery(Schema):
    disposition = fields.String(
        load_default="attachment", validate=validators.OneOf(["attachment", "inline"]),
        metadata={"description": "inline: a reading copy shown in the browser (registered as a "
                                 "view); attachment: a download"})


_FILE_RESPONSES: dict[int | str, Any] = {
    206: {"description": "One byte range (Range: bytes=…)",
          "content": {"application/octet-stream": {"schema": {"type": "string",
                                                              "format": "binary"}}}},
    304: "Not modified (If-None-Match holds the SHA-256)",
    400: "Not a file name (ACS002)",
    401: "An account is needed (AUTH003)",
    403: "Mode 02 without an approved access request (ACS001)",
    404: "No such document or file, or not visible to the caller",
    416: "Range not satisfiable (ACS003)",
    503: "No intact copy could be read (ACS004); damaged copies are flagged for repair",
}


_ASCII_D = str.maketrans({"đ": "d", "Đ": "D"})  # no decomposition takes đ to d


def _disposition(kind: str, name: str) -> str:
    """RFC 6266: the name itself in ``filename*`` (UTF-8), and in ``filename`` an ASCII form
    for older clients, read as Vietnamese is ("Quyết định" -> "Quyet dinh", not "Quyet
    inh"), with no ``"`` or ``\\`` to end or escape its quoted string."""
    simple = unicodedata.normalize("NFKD", name.translate(_ASCII_D)).encode(
        "ascii", "ignore").decode("ascii")
    simple = simple.replace('"', "_").replace("\\", "_")
    if simple == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{simple}\"; filename*=UTF-8''{quote(name, safe='')}"


def _headers(rv: Response, target: files_service.FileTarget, kind: str) -> None:
    rv.headers["Content-Disposition"] = _disposition(kind, target.name)
    # No Last-Modified: an If-Modified-Since could then turn a registered download into a 304
    # after the register was written; the ETag (the SHA-256) validates everything.
    rv.set_etag(target.sha256)
    rv.accept_ranges = "bytes"
    rv.cache_control.private = True
    rv.cache_control.no_cache = True


def _range(size: int, etag: str) -> tuple[int, int] | None | bool:
    """The one byte range asked for, ``[start, end)``; None: send the whole file; False: not
    satisfiable. Normalises the request's Range header for Werkzeug to serve."""
    header = request.headers.get("Range")
    if header is None:
        return None
    if_range = request.headers.get("If-Range")
    if if_range and if_range.strip().startswith(('"', "W/")):
        # an entity tag, compared strongly (RFC 9110 §13.1.5); a date never matches (no
        # Last-Modified is sent), so Werkzeug then sends the whole file
        given = if_range.strip()
        if given.startswith("W/") or given.strip('"') != etag:
            request.environ.pop("HTTP_RANGE", None)  # another representation: the whole file
            return None
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        request.environ.pop("HTTP_RANGE", None)  # ignored (RFC 9110 §14.2)
        return None
    start, end = parsed.ranges[0]
    if end is None:
        start, end = (max(size + start, 0), size) if start < 0 else (start, size)
    end = min(end, size)
    if start >= size:
        return False
    request.environ["HTTP_RANGE"] = f"bytes={start}-{end - 1}"
    return start, end


def _serve(target: files_service.FileTarget, *, inline: bool) -> Any:
    kind = "inline" if inline else "attachment"
    if request.if_none_match and request.if_none_match.contains_weak(target.sha256):
        rv = Response(status=304)
        _headers(rv, target, kind)
        return rv
    if request.method == "HEAD":
        rv = Response(mimetype=target.mime)
        _headers(rv, target, kind)
        rv.content_length = target.size
        return rv
    wanted = _range(target.size, target.sha256)
    if wanted is False:
        spec = request.headers.get("Range", "")
        return problem(Issue("ACS003", target.name, {"range": spec, "name": target.name,
                                                     "size": target.size}), 416,
                       headers={"Content-Range": f"bytes */{target.size}"})
    detail = {"range": f"{wanted[0]}-{wanted[1] - 1}"} if isinstance(wanted, tuple) else {}
    start, end = wanted if isinstance(wanted, tuple) else (0, target.size)
    delivered = files_service.fetch(services(), current_identity(), target, inline=inline,
                                    start=start, end=end, **detail)
    if isinstance(delivered, Streamed):
        # verified block by block as it is sent; its close ends the storage read. Each block
        # goes to waitress's send queue as it is (``waitress_send``): the length is set below
        rv = Response(sendable(delivered, request.environ), status=206 if isinstance(wanted, tuple) else 200,
                      mimetype=target.mime, direct_passthrough=True)
        rv.content_length = end - start
        if isinstance(wanted, tuple):
            rv.headers["Content-Range"] = f"bytes {start}-{end - 1}/{target.size}"
        _headers(rv, target, kind)
        return rv
    rv = Response(wrap_file(request.environ, delivered.file), mimetype=target.mime,
                  direct_passthrough=True)
    rv.content_length = target.size
    _headers(rv, target, kind)
    return rv.make_conditional(request.environ, accept_ranges=True,
                               complete_length=target.size)


@bp.get("/documents/<path:doc_code>/files/<name>")
@bp.input(FileQuery, location="query")
@bp.output(FileSchema, content_type="application/octet-stream",
           description="The file's bytes, each verified before it is sent: the whole file "
                       "against its SHA-256, or, once its 4 MiB block digests are known, each "
                       "block against its own; a block no copy holds intact ends the transfer "
                       "short of its Content-Length (ETag: the SHA-256)")
@bp.doc(responses=_FILE_RESPONSES)
@requires()
def get_file(doc_code: str, name: str, query_data: dict[str, Any]) -> Response:
    """Tệp của tài liệu: the whole file or one range; every download is registered."""
    target = files_service.locate(services(), current_identity(), doc_code, name)
    return _serve(target, inline=query_data["disposition"] == "inline")


@bp.get("/documents/<path:doc_code>/files/<name>/copy")
@bp.output(FileSchema, content_type="application/pdf",
           description="A copy of the PDF with every page marked BẢN SAO, the archive's name "
                       "and the date")
@bp.doc(responses={400: _FILE_RESPONSES[400], 401: _FILE_RESPONSES[401],
                   403: _FILE_RESPONSES[403], 404: _FILE_RESPONSES[404],
                   409: "Not a PDF (ACS005) or a PDF that cannot be marked (ACS006)",
                   503: _FILE_RESPONSES[503]})
@requires()
def get_copy(doc_code: str, name: str) -> Response:
    """Bản sao: a dissemination copy of a PDF, registered as a COPY."""
    copy = files_service.make_copy(services(), current_identity(), doc_code, name)
    rv = Response(wrap_file(request.environ, copy.file), mimetype="application/pdf",
                  direct_passthrough=True)
    rv.content_length = copy.size
    rv.headers["Content-Disposition"] = _disposition("attachment", copy.name)
    rv.cache_control.no_store = True
    return rv
