"""Bảo quản: sổ định dạng và chuyển đổi định dạng (the format register, format migrations).

For preservation officers (and administrators): the formats the archive holds per fonds with
those the TT 05 policy marks at risk, and the migration of every AIP holding one format,
queued as one job per AIP.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, Schema, fields, validators

from access_api.api.base import identity, requires, services
from access_api.services import formats as formats_service
from access_api.services import migration as migration_service
from access_api.services.base import UserRole

bp = APIBlueprint("formats", __name__, url_prefix="/api/v1", tag="formats")

OFFICER = UserRole.PRESERVATION_OFFICER
ERRORS = [401, 403]


class FormatQuery(Schema):
    fonds = fields.String(load_default=None, validate=validators.Length(1, 25), metadata={
        "description": "only this fonds (mã phông)"})
    at_risk = fields.Boolean(load_default=False, metadata={
        "description": "only the formats the policy warns about (FMT005)"})


class FondsCountOut(Schema):
    fond_code = fields.String(required=True)
    files = fields.Integer(required=True)
    bytes = fields.Integer(required=True)


class HeldFormatOut(Schema):
    puid = fields.String(required=True, allow_none=True)
    format_name = fields.String(required=True)
    decision = fields.String(required=True, metadata={
        "description": "accept, warn, or unlisted (in no rule of the format policy)"})
    at_risk = fields.Boolean(required=True)
    reason = fields.String(required=True)
    reason_en = fields.String(required=True)
    migrate_to = fields.String(required=True, allow_none=True, metadata={
        "description": "the format a migration makes (pdfa-2b, tiff); null: none"})
    files = fields.Integer(required=True)
    bytes = fields.Integer(required=True)
    fonds = fields.List(fields.Nested(FondsCountOut), required=True)


class FormatRegisterOut(Schema):
    policy = fields.String(required=True)
    formats = fields.List(fields.Nested(HeldFormatOut), required=True)


class MigrationIn(Schema):
    puid = fields.String(required=True, validate=validators.Length(1, 30), metadata={
        "description": "a PRONOM identifier the policy migrates, e.g. fmt/276"})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "only list the AIPs and files; queue nothing"})


class HolderOut(Schema):
    objid = fields.String(required=True)
    files = fields.List(fields.String(), required=True, metadata={
        "description": "files still to migrate (bag paths)"})
    already = fields.List(fields.String(), required=True, metadata={
        "description": "files a version already migrated (skipped)"})
    job = fields.String(required=True, allow_none=True)


class MigrationBatchOut(Schema):
    puid = fields.String(required=True)
    target = fields.String(required=True)
    dry_run = fields.Boolean(required=True)
    aips = fields.List(fields.Nested(HolderOut), required=True)
    jobs = fields.List(fields.String(), required=True, metadata={
        "description": "one job per AIP; follow each at /api/v1/jobs/{id}"})


@bp.get("/formats")
@bp.input(FormatQuery, location="query", arg_name="query")
@bp.output(FormatRegisterOut)
@bp.doc(responses=ERRORS)
@requires(OFFICER)
def format_register(query: dict[str, Any]) -> dict[str, Any]:
    """The formats held, per fonds, with the policy's decision and the migration available."""
    return formats_service.register(services(), identity(), fonds=query["fonds"],
                                    at_risk=query["at_risk"]).to_dict()


@bp.post("/migrations")
@bp.input(MigrationIn, arg_name="body")
@bp.output(MigrationBatchOut, status_code=202)
@bp.doc(responses=[*ERRORS, 422, 503])
@requires(OFFICER)
def queue_migrations(body: dict[str, Any]) -> dict[str, Any]:
    """Queue the migration of every AIP holding ``puid`` (one job per AIP; an AIP already
    migrated is skipped; 422 MIG001/MIG005 for a PUID the archive cannot migrate)."""
    return migration_service.queue_migrations(services(), identity(), body["puid"],
                                              dry_run=body["dry_run"]).to_dict()
