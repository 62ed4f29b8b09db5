"""Component health for ``GET /healthz``: catalog, every storage location, clamd."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ingest.adapters.clamd import ClamdScanner
from preservation.catalog.db import Catalog
from preservation.errors import KhosoError
from preservation.issues import Issue
from preservation.settings import Settings
from storage.locations import check_locations


class Status(StrEnum):
    """A component's status."""

    UP = "up"
    DOWN = "down"


class Overall(StrEnum):
    """The whole repository's: ``degraded`` when any component is down."""

    OK = "ok"
    DEGRADED = "degraded"


def catalog_health(catalog: Catalog) -> dict[str, Any]:
    try:
        revision = catalog.ping()
    except KhosoError as exc:
        return {"status": Status.DOWN, "detail": exc.message("en"), "code": exc.code}
    return {"status": Status.UP, "revision": revision}


def clamd_health(address: str) -> dict[str, Any]:
    scanner = ClamdScanner(address, timeout=5.0)
    try:
        version = scanner.version()
    except OSError as exc:
        return {"status": Status.DOWN, "address": address, "detail": str(exc)}
    return {
        "status": Status.UP,
        "address": address,
        "engine": version.engine,
        # Without an official database clamd knows only the EICAR test signature.
        "signatures": version.signature_version or "custom (no official database)",
        "signature_date": version.signature_date,
    }


def storage_health(settings: Settings) -> list[dict[str, Any]]:
    return [
        {"name": h.name, "status": Status.UP if h.up else Status.DOWN, "detail": h.detail}
        for h in check_locations(settings.storage_locations)
    ]


def preservation_health(catalog: Catalog, period_days: int) -> dict[str, Any]:
    """AIPs with no good copy left (critical), copies not re-read within the audit period, and
    a catalog the last rebuild left incomplete (AIPs in storage it does not know)."""
    import sqlalchemy as sa

    from preservation.catalog.models import Package
    from preservation.catalog.queries import count_bad_copies, count_overdue_copies
    from preservation.catalog.state import incomplete

    try:
        with catalog.session() as s:
            critical = list(s.scalars(sa.select(Package.objid).where(Package.critical)
                                      .order_by(Package.objid).limit(20)))
            overdue = count_overdue_copies(s, period_days=period_days)
            bad = count_bad_copies(s)
            rebuild = incomplete(s)
    except sa.exc.SQLAlchemyError as exc:
        return {"status": Status.DOWN, "detail": str(exc).splitlines()[0]}
    out: dict[str, Any] = {"status": Status.DOWN if critical or rebuild else Status.UP,
                           "critical_aips": critical, "bad_copies": bad, "copies_overdue": overdue}
    if rebuild:  # AIPs in storage the catalog does not know: nothing audits or serves them
        issue = Issue("RBD038", "", {
            "count": rebuild.get("skipped_count", 0),
            "first": (rebuild.get("skipped") or ["-"])[0],
            "locations": ", ".join(rebuild.get("locations_unread") or []) or "-"})
        out["catalog_incomplete"] = {**rebuild, "code": "RBD038", "detail": issue.message("en"),
                                     "detail_vi": issue.message("vi")}
    return out


def health(settings: Settings, catalog: Catalog) -> dict[str, Any]:
    catalog_part, storage_part = catalog_health(catalog), storage_health(settings)
    components: dict[str, Any] = {
        "catalog": catalog_part,
        "storage": storage_part,
        "clamd": clamd_health(settings.clamd),
    }
    statuses = [catalog_part["status"], components["clamd"]["status"]]
    if catalog_part["status"] is Status.UP:
        components["preservation"] = preservation_health(catalog, settings.audit_period_days)
        statuses.append(components["preservation"]["status"])
    statuses += [s["status"] for s in storage_part]
    return {"status": Overall.OK if all(s is Status.UP for s in statuses) else Overall.DEGRADED,
            "components": components}
