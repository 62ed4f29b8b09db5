"""Set-up and administration: initialise an installation, agencies, fonds, keys (accounts:
``access_api.services.accounts``).

Every change is a unit of work whose audit-log entry (and, for a fonds, its snapshot) is
copied next to the AIPs once committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import MirrorAuditLog, MirrorFonds, UnitOfWork
from ingest import local_clamd
from preservation import signing
from preservation.accounts import ensure_first_admin
from preservation.catalog import registry
from preservation.catalog.models import Agency
from preservation.errors import ValidationFailed
from preservation.issues import Report
from preservation.settings import SettingValue, in_effect

FondsInput = registry.FondsInput


@dataclass(frozen=True)
class Initialised:
    """What ``initialise`` did, for the caller to tell."""

    data_dir: Path
    official_virus_db: bool | None  # None: clamd is not managed here
    key_created: Path | None  # the folder of a signing key made now
    trusted: Path | None  # the archive's certificate put in the trust folder now
    first_admin: tuple[str, str] | None  # (username, password), shown once


def initialise(ctx: ServiceContext, identity: Identity) -> Initialised:
    """Data folder, file locations, managed clamd, signing key and its certificate in the
    trust folder (so what the archive signs validates as trusted), catalog schema, the archive
    body and the first admin; safe to run again (it then creates nothing)."""
    s = ctx.settings
    s.data_dir.mkdir(parents=True, exist_ok=True)
    for loc in s.storage_locations:
        if loc.scheme == "file":
            loc.path.mkdir(parents=True, exist_ok=True)
    official = None
    if s.clamd_managed:
        local_clamd.configure(s.clamd_dir, tmpdir=Path(s.clamd_tmpdir))
        official = local_clamd.official_database()
    keys, created = Path(s.keys_dir), None
    if not (keys / signing.KEY_FILE).exists():
        signing.init_keys(keys, s.archive_name, s.archive_code)
        created = keys
    Path(s.trust_dir).mkdir(parents=True, exist_ok=True)
    trusted = signing.trust_own_certificate(keys, Path(s.trust_dir))
    ctx.catalog.upgrade()
    with ctx.catalog.session() as session:
        registry.ensure_archive_body(session, s.archive_code, s.archive_name, s.archive_kind)
        admin = ensure_first_admin(session)
    ctx.catalog.dispose()
    return Initialised(s.data_dir, official, created, trusted, admin)


def upgrade_schema(ctx: ServiceContext, revision: str = "head") -> str:
    """Migrate the catalog; returns the revision it is at."""
    ctx.catalog.upgrade(revision)
    try:
        return ctx.catalog.ping()
    finally:
        ctx.catalog.dispose()


def init_keys(ctx: ServiceContext, *, force: bool = False) -> tuple[str, Path | None]:
    """A self-signed signing key and certificate, the certificate put in the trust folder
    beside any earlier one (what the old key signed stays trusted); returns the certificate's
    subject and the trust file written."""
    s = ctx.settings
    subject = signing.init_keys(Path(s.keys_dir), s.archive_name, s.archive_code,
                                force=force).subject
    return subject, signing.trust_own_certificate(Path(s.keys_dir), Path(s.trust_dir))


def add_agency(ctx: ServiceContext, identity: Identity, organ_id: str, name: str, *,
               address: str | None = None, email: str | None = None) -> None:
    with UnitOfWork(ctx) as uow:
        registry.add_agency(uow.session, organ_id, name, address=address, contact_email=email,
                            actor=identity.actor)
        uow.register(MirrorAuditLog())


def list_agencies(ctx: ServiceContext) -> list[dict[str, Any]]:
    with ctx.catalog.session() as session:
        return [{"organ_id": a.organ_id, "name": a.name, "address": a.address}
                for a in registry.list_agencies(session)]


def add_fonds(ctx: ServiceContext, identity: Identity, data: registry.FondsInput) -> None:
    """A fonds of this archive. An agency not in the catalog is a rejected input (CAT009) that
    says to add the agency first."""
    s = ctx.settings
    with UnitOfWork(ctx) as uow:
        if data.organ_id and uow.session.scalar(
                sa.select(Agency.id).where(Agency.organ_id == data.organ_id)) is None:
            report = Report()
            report.add("CAT009", "agency", value=data.organ_id)
            raise ValidationFailed(report)
        body = registry.ensure_archive_body(uow.session, s.archive_code, s.archive_name,
                                            s.archive_kind)
        registry.add_fonds(uow.session, body, data, actor=identity.actor)
        uow.register(MirrorFonds(data.fond_code))
        uow.register(MirrorAuditLog())


def list_fonds(ctx: ServiceContext) -> list[dict[str, Any]]:
    with ctx.catalog.session() as session:
        return [{"fond_code": f.fond_code, "fond_name": f.fond_name,
                 "status": "đóng" if f.status == "dong" else "mở",
                 "archives_time": f.archives_time, "languages": ";".join(f.languages),
                 "archive": f.archive_body.code}
                for f in registry.list_fonds(session)]


def settings_in_effect() -> list[SettingValue]:
    """Every ``KHOSO_*`` variable: its value in effect, where it came from (secrets masked),
    its meaning and default, and why a value set is invalid (both in Vietnamese and English)."""
    return in_effect()
