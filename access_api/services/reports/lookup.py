"""The fonds and hồ sơ a report's parameters name, found or refused with a code."""

from __future__ import annotations

import sqlalchemy as sa

from access_api.services.base import ServiceContext
from preservation.catalog.models import ArchiveBody, Fonds, RecordFile
from preservation.errors import KhosoError, NotFound


def fonds(ctx: ServiceContext, code: str) -> Fonds:
    """The fonds ``code`` (the archive's own first, when two archive bodies share a code);
    404 RPT006 when there is none."""
    with ctx.catalog.reading() as s:
        found = s.scalars(sa.select(Fonds).join(ArchiveBody).where(Fonds.fond_code == code)
                          .order_by((ArchiveBody.code == ctx.settings.archive_code).desc(),
                                    Fonds.id)).first()
    if found is None:
        raise NotFound("RPT006", "fonds", fond=code)
    return found


def hoso(ctx: ServiceContext, code: str, fond_code: str | None = None) -> RecordFile:
    """The hồ sơ by its archival file code, else by its file code (within ``fond_code`` when
    given); 404 RPT007 when none, RPT008 when the file code is not unique."""
    with ctx.catalog.reading() as s:
        found = s.scalar(sa.select(RecordFile).where(RecordFile.arc_file_code == code))
        if found is not None and (fond_code is None or fonds(ctx, fond_code).id == found.fonds_id):
            return found
        query = sa.select(RecordFile, Fonds.fond_code).join(Fonds).where(
            RecordFile.file_code == code)
        if fond_code is not None:
            query = query.where(RecordFile.fonds_id == fonds(ctx, fond_code).id)
        matches = s.execute(query.order_by(RecordFile.id).limit(20)).all()
    if not matches:
        raise NotFound("RPT007", "hoso", hoso=code)
    if len(matches) > 1:
        raise KhosoError("RPT008", "hoso", hoso=code, count=len(matches),
                         fonds=", ".join(sorted({m[1] for m in matches})))
    record: RecordFile = matches[0][0]
    return record
