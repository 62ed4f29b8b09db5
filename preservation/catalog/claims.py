"""One job at a time writes a hồ sơ's AIP: a claim on its arcFileCode, taken before storing.

AIP keys are write-once, so two submissions of one hồ sơ running at once would each write part
of the keys and then both fail on the other's objects. The claim is a row with the arcFileCode as
its primary key: the database's uniqueness decides who writes, on SQLite and PostgreSQL alike.
A claim whose job ended without an AIP (rejected, failed, cancelled, or gone) is taken over;
one whose job is still queued or running is held, and the caller waits and retries.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from preservation.catalog.db import Catalog
from preservation.catalog.models import AipClaim, Job, utcnow
from preservation.catalog.vocab import JobStatus

LIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def claim(catalog: Catalog, arc_file_code: str, job_id: str) -> str | None:
    """Claim ``arc_file_code`` for ``job_id``; the id of the live job holding it, else None."""
    holder: str | None = None
    for _ in range(3):  # a holder ending between our two statements: look again
        try:
            with catalog.session() as s:
                s.add(AipClaim(arc_file_code=arc_file_code, job_id=job_id))
            return None
        except IntegrityError:
            pass
        with catalog.session() as s:
            holder = s.scalar(sa.select(AipClaim.job_id).where(
                AipClaim.arc_file_code == arc_file_code))
            if holder is None:
                continue  # released meanwhile: insert again
            if holder == job_id:
                return None  # this job's own earlier attempt
            status = s.scalar(sa.select(Job.status).where(Job.id == holder))
            if status in LIVE:
                return holder
            taken = cast("sa.CursorResult[Any]", s.execute(sa.update(AipClaim).where(
                AipClaim.arc_file_code == arc_file_code, AipClaim.job_id == holder).values(
                job_id=job_id, claimed_at=utcnow())))
            if taken.rowcount == 1:
                return None
    # Still contended after three looks: say it is held, so the caller waits and retries
    # rather than writing beside another job.
    return holder or "?"
