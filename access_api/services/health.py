"""The repository's health, as ``GET /healthz`` and ``khoso health`` report it.

Three states, decided in one place (``decide``) so the HTTP endpoint, the CLI and the metrics
can never disagree:

- ``down``: the catalog cannot be reached — nothing works (no ingest, no read, no audit);
- ``degraded``: khoso still serves but something needs an operator: a storage location or clamd
  down, an AIP with no good copy left (critical), a catalog the last rebuild left incomplete, or
  a clamd running without an official signature database (the EICAR test signature alone);
- ``up``: none of these.

Anyone may learn the state; the components (paths, versions, bucket names, critical OBJIDs)
are for preservation officers and administrators only: they tell an attacker what runs where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext, UserRole
from ingest.adapters.clamd import ClamdScanner
from preservation import __version__
from preservation.catalog import queries
from preservation.catalog.db import Catalog
from preservation.catalog.models import Package
from preservation.catalog.state import incomplete
from preservation.errors import KhosoError
from preservation.issues import Issue
from preservation.settings import Settings
from storage.locations import check_locations

DETAIL_ROLES = (UserRole.ADMIN, UserRole.PRESERVATION_OFFICER)
# ``khoso health``: 0 up, 1 degraded (an operator must act), 2 down (a system error)
EXIT_CODES = {"up": 0, "degraded": 1, "down": 2}
CRITICAL_SHOWN = 20  # critical OBJIDs listed in the health body; the audit summary lists all


class Status(StrEnum):
    """One component's status."""

    UP = "up"
    DOWN = "down"


class Overall(StrEnum):
    """The repository's status (see the module docstring)."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True)
class HealthReport:
    """The state, why it is not ``up`` (issues with their codes) and every component."""

    status: Overall
    components: dict[str, Any]
    issues: tuple[Issue, ...] = field(default=())

    def public(self) -> dict[str, Any]:
        """What an anonymous caller (a load balancer) gets: the state alone."""
        return {"status": str(self.status)}

    def detailed(self) -> dict[str, Any]:
        return {"status": str(self.status), "version": __version__,
                "issues": [i.to_dict() for i in self.issues], "components": self.components}


def may_see_details(identity: Identity) -> bool:
    return identity.has(*DETAIL_ROLES)


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
        "official_database": version.signature_version is not None,
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
    try:
        with catalog.session() as s:
            critical = list(s.scalars(sa.select(Package.objid).where(Package.critical)
                                      .distinct().order_by(Package.objid)
                                      .limit(CRITICAL_SHOWN)))
            critical_count = s.scalar(sa.select(sa.func.count(sa.distinct(Package.objid)))
                                      .where(Package.critical)) or 0
            overdue = queries.count_overdue_copies(s, period_days=period_days)
            bad = queries.count_bad_copies(s)
            rebuild = incomplete(s)
    except sa.exc.SQLAlchemyError as exc:
        return {"status": Status.DOWN, "detail": str(exc).splitlines()[0]}
    out: dict[str, Any] = {"status": Status.DOWN if critical or rebuild else Status.UP,
                           "critical_aips": critical, "critical_count": critical_count,
                           "bad_copies": bad, "copies_overdue": overdue}
    if rebuild:  # AIPs in storage the catalog does not know: nothing audits or serves them
        issue = _rebuild_issue(rebuild)
        out["catalog_incomplete"] = {**rebuild, "code": "RBD038", "detail": issue.message("en"),
                                     "detail_vi": issue.message("vi")}
    return out


def _rebuild_issue(rebuild: dict[str, Any]) -> Issue:
    return Issue("RBD038", "", {
        "count": rebuild.get("skipped_count", 0),
        "first": (rebuild.get("skipped") or ["-"])[0],
        "locations": ", ".join(rebuild.get("locations_unread") or []) or "-"})


def decide(components: dict[str, Any]) -> tuple[Overall, tuple[Issue, ...]]:
    """The overall state of these components and the issues that make it less than ``up``."""
    catalog = components["catalog"]
    if catalog["status"] is not Status.UP:
        return Overall.DOWN, (Issue("OPS001", "catalog", {"detail": catalog.get("detail", "")}),)
    issues: list[Issue] = []
    for loc in components["storage"]:
        if loc["status"] is not Status.UP:
            issues.append(Issue("OPS002", f"storage:{loc['name']}",
                                {"name": loc["name"], "detail": loc.get("detail") or "-"}))
    clamd = components["clamd"]
    if clamd["status"] is not Status.UP:
        issues.append(Issue("OPS003", "clamd", {"address": clamd["address"],
                                                "detail": clamd.get("detail") or "-"}))
    elif not clamd.get("official_database"):
        issues.append(Issue("OPS004", "clamd", {"engine": clamd.get("engine", "-")}))
    pres = components.get("preservation") or {}
    if pres.get("status") is Status.DOWN and "detail" in pres and "critical_aips" not in pres:
        issues.append(Issue("OPS001", "catalog", {"detail": pres["detail"]}))
    if pres.get("critical_count"):
        issues.append(Issue("OPS005", "preservation", {
            "count": pres["critical_count"], "first": pres["critical_aips"][0]}))
    if "catalog_incomplete" in pres:
        issues.append(_rebuild_issue(pres["catalog_incomplete"]))
    return (Overall.DEGRADED if issues else Overall.UP), tuple(issues)


def check(settings: Settings, catalog: Catalog) -> HealthReport:
    """Ask every component now (the catalog, each location, clamd) and decide."""
    components: dict[str, Any] = {"catalog": catalog_health(catalog),
                                  "storage": storage_health(settings),
                                  "clamd": clamd_health(settings.clamd)}
    if components["catalog"]["status"] is Status.UP:
        components["preservation"] = preservation_health(catalog, settings.audit_period_days)
    status, issues = decide(components)
    return HealthReport(status, components, issues)


def health(ctx: ServiceContext, identity: Identity) -> dict[str, Any]:
    """The body ``/healthz`` and ``khoso health`` show this caller: the state alone, or with
    the components for a preservation officer or an administrator."""
    report = check(ctx.settings, ctx.catalog)
    return report.detailed() if may_see_details(identity) else report.public()
