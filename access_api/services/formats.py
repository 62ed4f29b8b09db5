"""The format register (sổ định dạng): which formats the archive holds, per fonds, and which
the TT 05 format policy marks at risk (``warn``), with the migration khoso can make of them.

Counted from the catalog's bitstreams of stored AIP versions (active and superseded: every
object still kept), content files only (``representations/rep1/data/``): each stored object
once, so a migrated copy counts as a file of its own format and its original stays counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext, UserRole
from ingest.adapters.format_policy import FormatPolicy
from preservation.catalog import queries
from preservation.catalog.models import Bitstream, Fonds, Package
from preservation.catalog.vocab import PackageKind
from preservation.errors import Forbidden
from preservation.packaging.aip.migrated_version import CONTENT

OFFICERS = (UserRole.ADMIN, UserRole.PRESERVATION_OFFICER)


@dataclass(frozen=True)
class FondsCount:
    fond_code: str
    files: int
    bytes: int


@dataclass(frozen=True)
class HeldFormat:
    """One format held: its policy decision and what the archive can do about it."""

    puid: str | None  # None: files no tool identified (refused at ingest, so none expected)
    format_name: str
    decision: str  # accept / warn / unlisted (in no rule of the policy)
    at_risk: bool  # the policy warns about it (FMT005)
    reason: str
    reason_en: str
    migrate_to: str | None  # the format ``khoso migrate --puid`` makes of it
    files: int
    bytes: int
    fonds: tuple[FondsCount, ...]


@dataclass(frozen=True)
class FormatRegister:
    policy: str
    formats: tuple[HeldFormat, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def register(ctx: ServiceContext, identity: Identity, *, fonds: str | None = None,
             at_risk: bool = False) -> FormatRegister:
    """Formats held (most files first), optionally of one fonds or only those at risk."""
    if not identity.has(*OFFICERS):
        raise Forbidden("AUTH004")
    policy = FormatPolicy.load(migrate_on_ingest=ctx.settings.migrate_on_ingest)
    query = (sa.select(Bitstream.puid, sa.func.max(Bitstream.format_name), Fonds.fond_code,
                       sa.func.count(Bitstream.id), sa.func.sum(Bitstream.size))
             .join(Package, Package.id == Bitstream.package_id)
             .join(Fonds, Fonds.id == Package.fonds_id)
             .where(Package.kind == PackageKind.AIP,
                    Package.status.in_(queries.AUDITED_STATUSES),
                    Bitstream.path.startswith(CONTENT))
             .group_by(Bitstream.puid, Fonds.fond_code))
    if fonds is not None:
        query = query.where(Fonds.fond_code == fonds)
    per: dict[str | None, list[tuple[str, str, int, int]]] = {}
    with ctx.catalog.session() as s:
        for puid, name, code, files, size in s.execute(query):
            per.setdefault(puid, []).append((name or "", code, int(files), int(size or 0)))
    out = []
    for puid, rows in per.items():
        rule = policy.rule_for(puid)
        warned = rule is not None and rule.decision == "warn"
        if at_risk and not warned:
            continue
        reason, reason_en = policy.reasons(rule) if rule is not None else ("", "")
        counts = tuple(sorted((FondsCount(c, n, b) for _, c, n, b in rows),
                              key=lambda f: f.fond_code))
        out.append(HeldFormat(
            puid, max(r[0] for r in rows) or (rule.name if rule else ""),
            rule.decision if rule else "unlisted", warned, reason, reason_en,
            rule.migrate_to.value if rule and rule.migrate_to else None,
            sum(f.files for f in counts), sum(f.bytes for f in counts), counts))
    out.sort(key=lambda f: (-f.files, f.puid or ""))
    return FormatRegister(f"{policy.name} {policy.version}".strip(), tuple(out))
