"""The TT 05 registers (Phụ lục VII): backup log, inspection record, incident record; and the
access register (sổ khai thác sử dụng, NĐ 113/2025 Điều 22 khoản 2): who used what, when, how
and why, from the ``access_log`` table."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog.models import AccessEntry, AccessRequest, Dip, Document, RecordFile
from preservation.errors import Forbidden, KhosoError
from storage.registers import REGISTERS, build_register, write_register

ACCESS_REGISTER = "so_khai_thac"
NAMES = (*REGISTERS, ACCESS_REGISTER)
ICT = dt.timezone(dt.timedelta(hours=7))
ACCESS_COLUMNS = (
    ("no", "STT"), ("at", "Thời gian"), ("actor", "Người khai thác"),
    ("action", "Hình thức"), ("object_type", "Loại đối tượng"), ("object_id", "Mã đối tượng"),
    ("title", "Tiêu đề"), ("purpose", "Mục đích"), ("request_id", "Mã yêu cầu khai thác"),
    ("detail", "Chi tiết"))
ACTIONS_VI = {"view": "Xem", "download": "Tải tệp", "copy": "Bản sao", "dip": "Gói DIP",
              "request": "Yêu cầu khai thác"}
READERS = (UserRole.ADMIN, UserRole.ARCHIVIST)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """A date given without a zone is taken as UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def write(ctx: ServiceContext, name: str, stream: TextIO, *, fmt: str = "csv",
          since: dt.datetime | None = None, until: dt.datetime | None = None) -> int:
    """Register ``name`` for events in ``[since, until)`` written to ``stream`` as CSV or
    JSON; returns the number of rows."""
    since, until = _utc(since), _utc(until)
    if name == ACCESS_REGISTER:
        page = access_register(ctx, Identity.system(), since=since, until=until)
        write_access_register(page.rows, stream, fmt=fmt, since=since, until=until)
        return len(page.rows)
    with ctx.catalog.session() as session:
        rows = build_register(session, name, since=since, until=until)
    write_register(name, rows, stream, fmt=fmt, since=since, until=until)
    return len(rows)


@dataclass(frozen=True)
class AccessPage:
    rows: list[dict[str, Any]]
    total: int


def _titles(s: Session, entries: list[AccessEntry]) -> dict[tuple[str, str], str]:
    """A title for each object the entries name: the document's subject (or picture/recording
    title), the hồ sơ's title, the request's research topic."""
    ids: dict[str, set[str]] = {}
    for e in entries:
        ids.setdefault(e.object_type, set()).add(e.object_id.split("/", 1)[0])
    out: dict[tuple[str, str], str] = {}
    docs = ids.get("document", set()) | ids.get("file", set())
    if docs:
        for d in s.scalars(sa.select(Document).where(sa.or_(Document.doc_code.in_(docs),
                                                             Document.arc_doc_code.in_(docs)))):
            title = d.subject or d.image_title or d.movie_title or ""
            for code in (d.doc_code, d.arc_doc_code):
                if code:
                    out[("document", code)] = title
    if records := ids.get("record", set()):
        for r in s.scalars(sa.select(RecordFile).where(sa.or_(
                RecordFile.file_code.in_(records), RecordFile.arc_file_code.in_(records)))):
            for code in (r.file_code, r.arc_file_code):
                if code:
                    out[("record", code)] = r.title
    if requests := ids.get("access_request", set()):
        for q in s.scalars(sa.select(AccessRequest).where(AccessRequest.id.in_(requests))):
            out[("access_request", q.id)] = q.research_topic or q.purpose_content or ""
    if dips := ids.get("dip", set()):
        for dip in s.scalars(sa.select(Dip).where(Dip.id.in_(dips))):
            out[("dip", dip.id)] = f"DIP {dip.objid}: {', '.join(dip.documents[:5])}" + (
                "…" if len(dip.documents) > 5 else "")
    return out


def _title(titles: dict[tuple[str, str], str], e: AccessEntry) -> str:
    key = e.object_id.split("/", 1)[0]
    kind = "document" if e.object_type == "file" else e.object_type
    return titles.get((kind, key), "")


def access_register(ctx: ServiceContext, identity: Identity, *,
                    since: dt.datetime | None = None, until: dt.datetime | None = None,
                    page: int = 1, size: int | None = None) -> AccessPage:
    """Entries of the access register in ``[since, until)``, oldest first; ``size`` pages
    them (None: all). Archivists and admins only."""
    if not identity.has(*READERS):
        raise Forbidden("AUTH004")
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise KhosoError("GEN004", "to", name="to", reason="to <= from")
    query = sa.select(AccessEntry)
    if since is not None:
        query = query.where(AccessEntry.at >= since)
    if until is not None:
        query = query.where(AccessEntry.at < until)
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        query = query.order_by(AccessEntry.at, AccessEntry.id)
        first = 0
        if size is not None:
            first = (page - 1) * size
            query = query.offset(first).limit(size)
        entries = list(s.scalars(query))
        titles = _titles(s, entries)
        rows = [{"no": first + i, "at": _shown(e.at), "actor": e.actor, "action": e.action,
                 "object_type": e.object_type, "object_id": e.object_id,
                 "title": _title(titles, e), "purpose": e.purpose or "",
                 "request_id": e.request_id or "", "detail": dict(e.detail or {})}
                for i, e in enumerate(entries, 1)]
    return AccessPage(rows, total)


def _shown(value: dt.datetime) -> str:
    """ISO 8601 with the Vietnam offset (the catalog keeps UTC)."""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(ICT).isoformat(timespec="seconds")


def write_access_register(rows: list[dict[str, Any]], stream: TextIO, *, fmt: str = "csv",
                          since: dt.datetime | None = None,
                          until: dt.datetime | None = None) -> None:
    """CSV (UTF-8 with BOM, Vietnamese headers, the action in Vietnamese) or JSON."""
    if fmt == "csv":
        stream.write("\ufeff")
        out = csv.writer(stream)
        out.writerow([label for _, label in ACCESS_COLUMNS])
        for row in rows:
            shown = dict(row, action=ACTIONS_VI.get(row["action"], row["action"]),
                         detail=json.dumps(row["detail"], ensure_ascii=False, sort_keys=True))
            out.writerow([shown.get(key, "") for key, _ in ACCESS_COLUMNS])
    elif fmt == "json":
        json.dump({"register": ACCESS_REGISTER, "title": "Sổ khai thác sử dụng",
                   "title_en": "Access register",
                   "from": _shown(since) if since else "", "to": _shown(until) if until else "",
                   "columns": [{"key": k, "label": v} for k, v in ACCESS_COLUMNS],
                   "rows": rows}, stream, ensure_ascii=False, indent=2, default=str)
    else:
        raise KhosoError("AUD010", name="format", value=fmt, reason="csv or json")
