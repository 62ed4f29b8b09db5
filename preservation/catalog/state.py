"""Whether the catalog is complete: a rebuild that could not register every AIP version it
found (no good copy anywhere, a location that could not be listed) says so here, in the
catalog itself, so that ``/healthz`` keeps reporting it until a later rebuild adds what was
missing. An archive must not look healthy while records it holds are unknown to its catalog."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from preservation.catalog.models import CatalogState, utcnow

REBUILD = "rebuild"


def rebuild_state(session: Session) -> dict[str, Any] | None:
    """What the last rebuild left: ``{"complete": bool, "at": iso, "skipped": [...],
    "locations_unread": [...], "problems": int}``; None when the catalog was never rebuilt."""
    row = session.get(CatalogState, REBUILD)
    return dict(row.value) if row is not None else None


def mark_rebuild(session: Session, *, complete: bool, skipped: list[str],
                 locations_unread: list[str], problems: int) -> None:
    value = {"complete": complete, "at": utcnow().isoformat(), "skipped": sorted(skipped)[:100],
             "skipped_count": len(skipped), "locations_unread": sorted(locations_unread),
             "problems": problems}
    row = session.get(CatalogState, REBUILD)
    if row is None:
        session.add(CatalogState(name=REBUILD, value=value))
    else:
        row.value = value
    session.flush()


def incomplete(session: Session) -> dict[str, Any] | None:
    """The last rebuild's state when it left the catalog incomplete, else None."""
    state = rebuild_state(session)
    return state if state is not None and not state.get("complete", True) else None


AUDIT_MIRROR = "audit_mirror"


def audit_mirrored(session: Session) -> dict[str, int]:
    """Location name -> the highest audit-log id already copied there (``storage.sidecar_log``):
    kept here so that mirroring never lists a location's whole log."""
    row = session.get(CatalogState, AUDIT_MIRROR)
    return {k: int(v) for k, v in (row.value if row is not None else {}).items()}


def set_audit_mirrored(session: Session, done: dict[str, int]) -> None:
    """Record what was mirrored; a location's mark only moves forward (two writers racing)."""
    row = session.get(CatalogState, AUDIT_MIRROR)
    value = dict(row.value) if row is not None else {}
    for name, last in done.items():
        value[name] = max(int(value.get(name, 0)), last)
    if row is None:
        session.add(CatalogState(name=AUDIT_MIRROR, value=value))
    else:
        row.value = value
    session.flush()
