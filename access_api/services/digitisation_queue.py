"""What to digitise first (#16): a priority score over the paper hồ sơ, each component shown,
the plan's states (planned → in progress → done → verified, never out of order), progress per
fonds, and ``mark_digitised`` for the digitisation import.

The score, so that an archivist can see why one hồ sơ comes before another:
- permanent retention (maintenance 01): ``KHOSO_DIGITISATION_PERMANENT_POINTS`` (40);
- uses: each paper loan, each access-register entry on a document of the catalog's hồ sơ
  linked by its paperFileCode, each access request naming one of those documents, counted up
  to ``USES_CAP`` times, ``KHOSO_DIGITISATION_USE_POINTS`` (5) each — TT 05 Điều 5 chooses
  what is used most;
- physical condition: damaged 30, faded 20, worn 10, good 0 (handling a fragile original less
  is the first purpose of digitising, TT 05 Điều 5 khoản 1);
- the archivist's override, −100 to +100, with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext
from access_api.services.paper import paper_row
from access_api.services.repository import Checks, require
from preservation.catalog import audit
from preservation.catalog.models import (
    AccessEntry,
    AccessRequestItem,
    DigitisationItem,
    Document,
    DocumentOcrText,
    Fonds,
    Package,
    PaperFile,
    PaperLoan,
    RecordFile,
    utcnow,
)
from preservation.catalog.vocab import DigitisationState, PaperCondition
from preservation.errors import Conflict, ValidationFailed
from preservation.issues import Report, Text

log = logging.getLogger(__name__)

USES_CAP = 10
CONDITION_POINTS = {PaperCondition.DAMAGED: 30, PaperCondition.FADED: 20,
                    PaperCondition.WORN: 10, PaperCondition.GOOD: 0}
ORDER = (None, DigitisationState.PLANNED, DigitisationState.IN_PROGRESS,
         DigitisationState.DONE, DigitisationState.VERIFIED)
NOT_PLANNED = "not_planned"


@dataclass(frozen=True)
class Score:
    """The priority and each of its components."""

    permanent: int
    uses: int
    use_points: int
    condition: str
    condition_points: int
    override: int
    override_reason: str | None

    @property
    def total(self) -> int:
        return self.permanent + self.use_points + self.condition_points + self.override


@dataclass(frozen=True)
class QueueEntry:
    code: str
    title: str
    fonds: str | None
    maintenance: str
    page_count: int
    state: str
    score: Score

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["score"] = {"total": self.score.total, **asdict(self.score)}
        return out


def _uses() -> sa.Subquery:
    """Uses per paper code: loans of the paper hồ sơ plus uses of its digital record."""
    doc_code = sa.or_(AccessEntry.object_id == Document.doc_code,
                      AccessEntry.object_id == Document.arc_doc_code)
    viewed = (sa.select(Document.record_file_id.label("rid"), sa.func.count().label("n"))
              .join(AccessEntry, sa.and_(AccessEntry.object_type == "document", doc_code))
              .group_by(Document.record_file_id).subquery())
    asked = (sa.select(Document.record_file_id.label("rid"), sa.func.count().label("n"))
             .join(AccessRequestItem, sa.or_(AccessRequestItem.doc_code == Document.doc_code,
                                             AccessRequestItem.doc_code == Document.arc_doc_code))
             .group_by(Document.record_file_id).subquery())
    by_record = (sa.select(RecordFile.paper_file_code.label("code"),
                           sa.func.sum(sa.func.coalesce(viewed.c.n, 0)
                                       + sa.func.coalesce(asked.c.n, 0)).label("n"))
                 .outerjoin(viewed, viewed.c.rid == RecordFile.id)
                 .outerjoin(asked, asked.c.rid == RecordFile.id)
                 .where(RecordFile.paper_file_code.is_not(None))
                 .group_by(RecordFile.paper_file_code).subquery())
    loans = (sa.select(PaperLoan.paper_file_id.label("pid"), sa.func.count().label("n"))
             .group_by(PaperLoan.paper_file_id).subquery())
    return (sa.select(PaperFile.id.label("pid"),
                      (sa.func.coalesce(loans.c.n, 0)
                       + sa.func.coalesce(by_record.c.n, 0)).label("uses"))
            .outerjoin(loans, loans.c.pid == PaperFile.id)
            .outerjoin(by_record, by_record.c.code == PaperFile.code).subquery())


def _score_expr(settings_permanent: int, settings_use: int,
                uses: sa.Subquery) -> sa.ColumnElement[int]:
    capped = sa.case((uses.c.uses > USES_CAP, USES_CAP), else_=uses.c.uses)
    condition = sa.case(*((PaperFile.condition == c.value, p)
                          for c, p in CONDITION_POINTS.items()), else_=0)
    permanent = sa.case((PaperFile.maintenance == "01", settings_permanent), else_=0)
    return permanent + capped * settings_use + condition + PaperFile.priority_override


def queue_rows(s: Session, ctx: ServiceContext, *, fonds: str | None = None,
               include_done: bool = False, code: str | None = None) -> sa.Select[Any]:
    uses = _uses()
    p, u = ctx.settings.digitisation_permanent_points, ctx.settings.digitisation_use_points
    score = _score_expr(p, u, uses).label("score")
    query = (sa.select(PaperFile, Fonds.fond_code, DigitisationItem.state, uses.c.uses, score)
             .join(uses, uses.c.pid == PaperFile.id)
             .outerjoin(Fonds, Fonds.id == PaperFile.fonds_id)
             .outerjoin(DigitisationItem, DigitisationItem.paper_file_id == PaperFile.id))
    if fonds is not None:
        query = query.where(Fonds.fond_code == fonds)
    if code is not None:
        query = query.where(PaperFile.code == code)
    if not include_done:
        query = query.where(_waiting())
    return query.order_by(score.desc(), PaperFile.code)


def _count(*, fonds: str | None, include_done: bool) -> sa.Select[Any]:
    """How many hồ sơ the queue holds, without computing their scores."""
    query = (sa.select(sa.func.count()).select_from(PaperFile)
             .outerjoin(DigitisationItem, DigitisationItem.paper_file_id == PaperFile.id))
    if fonds is not None:
        query = query.join(Fonds, Fonds.id == PaperFile.fonds_id).where(Fonds.fond_code == fonds)
    if not include_done:
        query = query.where(_waiting())
    return query


def _waiting() -> sa.ColumnElement[bool]:
    return sa.or_(DigitisationItem.state.is_(None), DigitisationItem.state.in_(
        (DigitisationState.PLANNED.value, DigitisationState.IN_PROGRESS.value)))


def _entry(ctx: ServiceContext, row: Any) -> QueueEntry:
    paper, fond_code, state, uses, _score = row
    p, u = ctx.settings.digitisation_permanent_points, ctx.settings.digitisation_use_points
    counted = min(int(uses or 0), USES_CAP)
    return QueueEntry(paper.code, paper.title, fond_code, paper.maintenance, paper.page_count,
                      state or NOT_PLANNED,
                      Score(p if paper.maintenance == "01" else 0, int(uses or 0), counted * u,
                            paper.condition, CONDITION_POINTS[PaperCondition(paper.condition)],
                            paper.priority_override, paper.override_reason))


def queue(ctx: ServiceContext, identity: Identity, *, fonds: str | None = None,
          include_done: bool = False, page: int = 1,
          size: int = 50) -> tuple[list[QueueEntry], int]:
    """Paper hồ sơ by priority, highest first (not yet digitised unless ``include_done``)."""
    require(identity)
    with ctx.catalog.reading() as s:
        query = queue_rows(s, ctx, fonds=fonds, include_done=include_done)
        total = s.scalar(_count(fonds=fonds, include_done=include_done)) or 0
        rows = s.execute(query.offset((page - 1) * size).limit(size)).all()
        return [_entry(ctx, r) for r in rows], total


def entry(ctx: ServiceContext, identity: Identity, code: str) -> QueueEntry:
    require(identity)
    with ctx.catalog.reading() as s:
        paper_row(s, code)
        row = s.execute(queue_rows(s, ctx, include_done=True, code=code)).one()
        return _entry(ctx, row)


def set_override(ctx: ServiceContext, identity: Identity, code: str, *, points: int,
                 reason: str) -> QueueEntry:
    require(identity)
    checks = Checks()
    checks.number("points", points, -100, 100)
    checks.text("reason", reason, 1000)
    checks.done()
    with ctx.catalog.session() as s:
        row = paper_row(s, code, lock=True)
        before = row.priority_override
        row.priority_override, row.override_reason = points, reason.strip()
        audit.record(s, identity.actor, "digitisation.override", "paper_file", code,
                     before=before, points=points, reason=row.override_reason)
    return entry(ctx, identity, code)


def _move(s: Session, paper: PaperFile, target: DigitisationState, actor: str, *,
          pages: int | None = None, objid: str | None = None) -> DigitisationItem:
    item = s.scalar(sa.select(DigitisationItem)
                    .where(DigitisationItem.paper_file_id == paper.id).with_for_update())
    current = DigitisationState(item.state) if item else None
    allowed = ORDER[ORDER.index(current) + 1] if current != DigitisationState.VERIFIED else None
    if target != allowed:
        raise Conflict("KHO008", hoso=paper.code, state=current or NOT_PLANNED,
                       target=target, allowed=allowed or "—")
    if item is None:
        item = DigitisationItem(paper_file_id=paper.id, state=target.value, updated_by=actor,
                                planned_at=utcnow())
        s.add(item)
    item.state, item.updated_by, item.updated_at = target.value, actor, utcnow()
    if pages is not None:
        item.pages = pages
    if objid is not None:
        item.objid = objid
    s.flush()
    return item


def advance(ctx: ServiceContext, identity: Identity, code: str, *,
            state: DigitisationState, pages: int | None = None,
            objid: str | None = None) -> QueueEntry:
    """Move the hồ sơ one step in the plan; any other move is KHO008. ``done`` records the
    pages scanned (the paper page count when not given) and the AIP's OBJID if known."""
    require(identity)
    checks = Checks()
    checks.number("pages", pages, 0, 1_000_000)
    checks.text("objid", objid, 200, required=False)
    checks.done()
    with ctx.catalog.session() as s:
        paper = paper_row(s, code, lock=True)
        if state == DigitisationState.DONE and pages is None:
            pages = paper.page_count
        item = _move(s, paper, DigitisationState(state), identity.actor, pages=pages,
                     objid=objid)
        audit.record(s, identity.actor, "digitisation.state", "paper_file", code,
                     state=item.state, pages=item.pages, objid=item.objid)
    return entry(ctx, identity, code)


def mark_digitised(session: Session, paper_file_code: str, *, pages: int, objid: str,
                   actor: str = "khoso-digitise") -> DigitisationItem:
    """The digitisation import's call, in its own transaction, once the AIP of the scans is
    stored: the paper hồ sơ is ``done`` with the pages scanned and the AIP's OBJID. Planned,
    in progress, or never planned (digitised outside the plan) are all accepted; already done
    or verified is KHO009 (the same paper recorded twice); an unknown code is KHO001."""
    if not 0 <= pages <= 1_000_000 or not objid or len(objid) > 200:
        field = "pages" if not 0 <= pages <= 1_000_000 else "objid"
        report = Report()
        report.add("KHO006", field, field=field, why=checks_why())
        raise ValidationFailed(report, "KHO007")
    paper = paper_row(session, paper_file_code, lock=True)
    item = session.scalar(sa.select(DigitisationItem)
                          .where(DigitisationItem.paper_file_id == paper.id).with_for_update())
    if item is not None and item.state in (DigitisationState.DONE, DigitisationState.VERIFIED):
        raise Conflict("KHO009", hoso=paper_file_code, state=item.state, objid=item.objid or "—")
    if item is None:
        item = DigitisationItem(paper_file_id=paper.id, planned_at=utcnow(), updated_by=actor,
                                state=DigitisationState.DONE.value)
        session.add(item)
    item.state, item.pages, item.objid = DigitisationState.DONE.value, pages, objid
    item.updated_by, item.updated_at = actor, utcnow()
    session.flush()
    audit.record(session, actor, "digitisation.digitised", "paper_file", paper_file_code,
                 pages=pages, objid=objid)
    return item


def paper_digitised(session: Session, ctx: Any, package_id: int,
                    documents: dict[str, int]) -> None:
    """``Services.on_register`` (wired by ``wiring.build_services``): when the AIP just
    registered came from a digitisation (its documents have OCR text from the import) and its
    ``paperFileCode`` names a paper hồ sơ of the repository, that hồ sơ is done in the queue,
    with the pages scanned and the OBJID. A digitisation outside the paper register, or a paper
    hồ sơ already done, leaves the queue as it is: the AIP is stored all the same."""
    pages = session.scalars(sa.select(DocumentOcrText.pages)
                            .where(DocumentOcrText.package_id == package_id)).all()
    if not pages:
        return  # not a digitisation
    code = session.scalar(sa.select(RecordFile.paper_file_code)
                          .join(Package, Package.record_file_id == RecordFile.id)
                          .where(Package.id == package_id))
    if not code or session.scalar(sa.select(PaperFile.id)
                                  .where(PaperFile.code == code)) is None:
        return
    objid = session.scalar(sa.select(Package.objid).where(Package.id == package_id)) or ""
    try:
        with session.begin_nested():
            mark_digitised(session, code, pages=sum(pages), objid=objid)
    except Conflict as exc:
        log.warning("paper hồ sơ %s digitised again (%s): the queue keeps its first record",
                    code, exc.code)


def checks_why() -> Text:
    return Text("số trang từ 0 đến 1.000.000 và mã gói (OBJID) không rỗng, tối đa 200 ký tự",
                "pages from 0 to 1,000,000 and a package OBJID of 1–200 characters")


# -- progress per fonds -------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """Per fonds: preservation units (hồ sơ) and pages, in total and per state."""

    fonds: str | None
    units: int
    pages: int
    units_by_state: dict[str, int]
    pages_by_state: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def progress_rows(s: Session, *, fonds: str | None = None) -> Iterator[Progress]:
    state = sa.func.coalesce(DigitisationItem.state, NOT_PLANNED).label("state")
    pages = sa.func.coalesce(DigitisationItem.pages, PaperFile.page_count)
    query = (sa.select(Fonds.fond_code, state, sa.func.count(), sa.func.sum(pages),
                       sa.func.sum(PaperFile.page_count))
             .select_from(PaperFile)
             .outerjoin(Fonds, Fonds.id == PaperFile.fonds_id)
             .outerjoin(DigitisationItem, DigitisationItem.paper_file_id == PaperFile.id)
             .group_by(Fonds.fond_code, state).order_by(Fonds.fond_code))
    if fonds is not None:
        query = query.where(Fonds.fond_code == fonds)
    names = [NOT_PLANNED, *(st.value for st in DigitisationState)]
    current: dict[str | None, Progress] = {}
    for code, st, units, state_pages, paper_pages in s.execute(query):
        p = current.setdefault(code, Progress(code, 0, 0, dict.fromkeys(names, 0),
                                              dict.fromkeys(names, 0)))
        p.units_by_state[st] += int(units)
        p.pages_by_state[st] += int(state_pages or 0)
        current[code] = Progress(code, p.units + int(units), p.pages + int(paper_pages or 0),
                                 p.units_by_state, p.pages_by_state)
    yield from current.values()


def progress(ctx: ServiceContext, identity: Identity, *,
             fonds: str | None = None) -> list[Progress]:
    require(identity)
    with ctx.catalog.reading() as s:
        return list(progress_rows(s, fonds=fonds))
