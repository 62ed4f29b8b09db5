"""Read-only package API for preservation officers: status, copies and critical AIPs."""

from __future__ import annotations

import sqlalchemy as sa
from apiflask import APIBlueprint
from flask import current_app, jsonify, request

from access_api.api.base import requires
from access_api.services.base import UserRole
from preservation.catalog import queries
from preservation.catalog.models import Package, StoredCopy
from preservation.catalog.vocab import PackageKind
from preservation.errors import KhosoError, NotFound
from preservation.issues import Noun, Text

bp = APIBlueprint("packages", __name__, url_prefix="/api/v1/packages", tag="packages")


def _copy(c: StoredCopy) -> dict:
    return {"location": c.location, "key": c.key, "last_check_at": c.last_check_at,
            "last_check_result": c.last_check_result, "detail": c.last_check_detail}


def _package(p: Package, copies: list[StoredCopy]) -> dict:
    return {"objid": p.objid, "version": p.version, "kind": p.kind, "status": p.status,
            "critical": p.critical, "label": p.label, "files": p.file_count,
            "bytes": p.total_size, "copies": [_copy(c) for c in copies]}


@bp.get("")
@requires(UserRole.PRESERVATION_OFFICER, UserRole.ARCHIVIST)
def list_packages():
    critical = request.args.get("critical")
    if critical not in (None, "true", "false"):
        raise KhosoError("GEN004", "critical", name="critical",
                         reason=Text("true hoặc false", "true or false"))
    try:
        limit = min(int(request.args.get("limit", "100")), 1000)
        if limit < 1:
            raise ValueError
    except ValueError:
        raise KhosoError("GEN004", "limit", name="limit",
                         reason=Text("số nguyên từ 1 đến 1000", "an integer from 1 to 1000")) from None
    query = (sa.select(Package).where(Package.kind == PackageKind.AIP).order_by(Package.id)
             .limit(limit))
    if critical is not None:
        query = query.where(Package.critical.is_(critical == "true"))
    with current_app.extensions["khoso"]["catalog"].session() as s:
        packages = list(s.scalars(query))
        copies = queries.copies_by_package(s, [p.id for p in packages])
        body = [_package(p, copies.get(p.id, [])) for p in packages]
    return jsonify({"packages": body})


@bp.get("/<path:objid>")
@requires(UserRole.PRESERVATION_OFFICER, UserRole.ARCHIVIST)
def get_package(objid: str):
    with current_app.extensions["khoso"]["catalog"].session() as s:
        versions = queries.package_with_copies(s, objid)
        if not versions:
            raise NotFound("GEN002", what=Noun.PACKAGE, key=objid)
        body = {"objid": objid, "versions": [_package(p, copies) for p, copies in versions]}
    return jsonify(body)
