"""Phông, hồ sơ, tài liệu (fonds, records, documents).

Open to anonymous callers as a public catalogue (what they see is what ``policy.may_see``
allows: modes 01 and 02); file content needs an account (``access_api.api.files``). A hồ sơ or
document is named by its archival code or by the agency's code from the SIP
(``access_api.services.catalog`` says how they map). ``?format=xml`` answers the EAD exactly as
the newest AIP version stores it.
"""

from __future__ import annotations

from typing import Any, cast

from apiflask import APIBlueprint, Schema, fields, validators
from flask import Response

from access_api.api.base import Instant, PageQuery, identity, page_of, paged, services
from access_api.services import catalog as catalog_service
from preservation.metadata.codelists import field_specs

bp = APIBlueprint("catalog", __name__, url_prefix="/api/v1", tag="catalog")

_TYPES = {"number": fields.Integer, "boolean": fields.Boolean}


def _tt05(*kinds: str) -> dict[str, fields.Field]:
    """Output fields named as the TT 05 AIP elements of ``kinds`` (dates: ISO 8601 prefixes)."""
    out: dict[str, fields.Field] = {}
    for kind in kinds:
        for spec in field_specs("AIP", kind):
            if spec.name in out:
                continue
            if spec.multi:
                out[spec.name] = fields.List(fields.String(), allow_none=True)
            else:
                out[spec.name] = _TYPES.get(spec.type, fields.String)(allow_none=True)
    return out


class FondsOut(Schema):
    fondCode = fields.String(required=True)  # noqa: N815 - TT 05 element names
    fondName = fields.String(required=True)  # noqa: N815
    status = fields.String(required=True, metadata={"description": "mo (mở) or dong (đóng)"})
    fondHistory = fields.String(allow_none=True)  # noqa: N815
    archivesTime = fields.String(allow_none=True)  # noqa: N815
    totalDoc = fields.Integer(allow_none=True)  # noqa: N815
    classificationScheme = fields.String(allow_none=True)  # noqa: N815
    language = fields.List(fields.String(), required=True)
    riskRecovery = fields.Boolean(required=True)  # noqa: N815
    description = fields.String(allow_none=True)
    records = fields.Integer(required=True, metadata={
        "description": "Hồ sơ of this fonds the caller may see"})


class FondsDetail(FondsOut):
    """One fonds (the same fields as a list item)."""


class DocumentSummary(Schema):
    docCode = fields.String(required=True)  # noqa: N815
    kind = fields.String(required=True, metadata={"description": "doc, pic or media"})
    title = fields.String(allow_none=True)
    mode = fields.String(allow_none=True)


class VersionOut(Schema):
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    created_at = Instant(required=True)
    label = fields.String(allow_none=True)


RecordOut = cast(type[Schema], Schema.from_dict({
    **_tt05("hoso"), "fondCode": fields.String(allow_none=True),
    "objid": fields.String(allow_none=True),
    "documents": fields.List(fields.Nested(DocumentSummary), required=True),
    "versions": fields.List(fields.Nested(VersionOut), required=True)}, name="Record"))


class FileOut(Schema):
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    puid = fields.String(allow_none=True)
    mime = fields.String(allow_none=True)
    format_name = fields.String(allow_none=True)
    download_url = fields.String(required=True)
    copy_url = fields.String(allow_none=True, metadata={
        "description": "A copy marked BẢN SAO (PDF only)"})


DocumentOut = cast(type[Schema], Schema.from_dict({
    **_tt05("doc", "pic", "media"), "docCode": fields.String(required=True),
    "kind": fields.String(required=True), "title": fields.String(allow_none=True),
    "effectiveMode": fields.String(allow_none=True),
    "access": fields.String(required=True, metadata={
        "description": "granted: the caller may download the files; request_required: mode 02 "
                       "needs an approved access request"}),
    "files": fields.List(fields.Nested(FileOut), required=True)}, name="Document"))


class FormatQuery(Schema):
    format = fields.String(load_default="json", validate=validators.OneOf(["json", "xml"]),
                           metadata={"description": "xml: the EAD as the AIP stores it"})


_XML: dict[int | str, Any] = {200: {"content": {"application/xml": {"schema": {"type": "string"}}}},
        404: "Not found, or not visible to the caller",
        503: "No intact copy of the EAD could be read"}


@bp.get("/fonds")
@bp.input(PageQuery, location="query")
@bp.output(page_of(FondsOut, "FondsPage"))
def list_fonds(query_data: dict[str, Any]) -> dict[str, Any]:
    """Phông of the archive, by code."""
    page, size = query_data["page"], query_data["size"]
    items, total = catalog_service.list_fonds(services(), identity(), page=page, size=size)
    return paged(items, total, page, size)


@bp.get("/fonds/<fond_code>")
@bp.output(FondsDetail)
@bp.doc(responses={404: "No such fonds"})
def get_fonds(fond_code: str) -> dict[str, Any]:
    """One phông: its ten TT 05 fields and how many of its hồ sơ the caller may see."""
    return catalog_service.get_fonds(services(), identity(), fond_code)


@bp.get("/records/<path:file_code>")
@bp.input(FormatQuery, location="query")
@bp.output(RecordOut)
@bp.doc(responses=_XML)
def get_record(file_code: str, query_data: dict[str, Any]) -> Any:
    """A hồ sơ (arcFileCode or the agency's fileCode) with its TT 05 fields, documents and AIP
    versions."""
    if query_data["format"] == "xml":
        data = catalog_service.record_ead(services(), identity(), file_code)
        return Response(data, mimetype="application/xml")
    return catalog_service.get_record(services(), identity(), file_code)


@bp.get("/documents/<path:doc_code>")
@bp.input(FormatQuery, location="query")
@bp.output(DocumentOut)
@bp.doc(responses=_XML)
def get_document(doc_code: str, query_data: dict[str, Any]) -> Any:
    """A tài liệu (its archival code, or the agency's docCode) with its TT 05 fields and its
    files."""
    if query_data["format"] == "xml":
        data = catalog_service.document_ead(services(), identity(), doc_code)
        return Response(data, mimetype="application/xml")
    return catalog_service.get_document(services(), identity(), doc_code)
