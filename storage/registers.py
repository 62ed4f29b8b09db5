"""The preservation registers TT 05 Phụ lục VII asks for, produced from the catalog's PREMIS events.

* ``nhat_ky_sao_luu`` (backup log): every replication event, at ingest and by repair;
* ``bien_ban_kiem_tra`` (inspection record): fixity checks per period and location, with totals;
* ``bien_ban_xu_ly_su_co`` (incident and recovery record): each object a fixity check found bad,
  and what repair did about it.

The events are the record; registers are views of them, so they can be produced again for any
period and never drift from what happened. Column headers are Vietnamese; JSON adds an English
key per column. Times are shown in Vietnam time (UTC+7, no daylight saving).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.event_data import legacy_event_data
from preservation.catalog.models import Package, PremisEvent, StoredCopy
from preservation.catalog.vocab import PackageKind
from preservation.errors import KhosoError
from preservation.events import FIXITY_CHECK, REPLICATION, Outcome
from storage.checks import RepairStatus
from storage.protocol import FixityOutcome

ICT = dt.timezone(dt.timedelta(hours=7), "ICT")
OUTCOMES_VI: dict[str, str] = {Outcome.SUCCESS: "Thành công", Outcome.FAILURE: "Thất bại",
               Outcome.WARNING: "Cảnh báo", Outcome.NOT_PERFORMED: "Không thực hiện được"}
BAD = (FixityOutcome.MISMATCH, FixityOutcome.MISSING)
Row = dict[str, Any]


@dataclass(frozen=True)
class Register:
    name: str
    title_vi: str
    title_en: str
    columns: tuple[tuple[str, str], ...]  # (English key, Vietnamese header)
    build: Callable[..., list[Row]]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def _shown(value: dt.datetime | None) -> str:
    return _utc(value).astimezone(ICT).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def facts(event: PremisEvent) -> dict[str, Any]:
    """The event's ``outcome_data``; for an event recorded without it (a writer that gives no
    data yet), what its text says in the shape earlier versions wrote."""
    if event.outcome_data is not None:
        return event.outcome_data
    return legacy_event_data(event.event_type, event.detail, event.outcome_detail) or {}


def _int(value: Any) -> int:
    return int(value or 0)


def _events(session: Session, event_type: str, since: dt.datetime | None, until: dt.datetime | None,
            outcome: str | None = None) -> list[tuple[PremisEvent, Package, StoredCopy | None]]:
    query = (sa.select(PremisEvent, Package, StoredCopy)
             .join(Package, Package.id == PremisEvent.package_id)
             .outerjoin(StoredCopy, StoredCopy.id == PremisEvent.stored_copy_id)
             .where(PremisEvent.event_type == event_type)
             .order_by(PremisEvent.event_datetime, PremisEvent.id))
    if since is not None:
        query = query.where(PremisEvent.event_datetime >= since)
    if until is not None:
        query = query.where(PremisEvent.event_datetime < until)
    if outcome is not None:
        query = query.where(PremisEvent.outcome == outcome)
    return [tuple(r) for r in session.execute(query).all()]  # type: ignore[misc]


def backup_log(session: Session, *, since: dt.datetime | None = None,
               until: dt.datetime | None = None, **_: Any) -> list[Row]:
    """Copies written of archived packages; a rejected SIP's "replication not performed"
    event is not a backup."""
    rows = []
    replications = [r for r in _events(session, REPLICATION, since, until)
                    if r[1].kind == PackageKind.AIP]
    for i, (ev, pkg, _copy) in enumerate(replications, 1):
        f = facts(ev)
        repair = "from" in f
        rows.append({
            "no": i, "time": _shown(ev.event_datetime), "objid": pkg.objid, "version": pkg.version,
            "kind": "Khôi phục bản sao" if repair else "Ghi bản sao khi nộp lưu",
            "source": f.get("from", "gói nộp lưu (SIP)"), "target": f.get("to", f.get("location", "")),
            "object": ev.object_identifier or "", "key": f.get("key", ""),
            "objects": _int(f.get("objects", 1 if repair else 0)), "bytes": _int(f.get("bytes", 0)),
            "outcome": OUTCOMES_VI.get(ev.outcome, ev.outcome),
            "note": (ev.outcome_detail or "").split("\n", 1)[0]})
    return rows


def inspection_record(session: Session, *, since: dt.datetime | None = None,
                      until: dt.datetime | None = None, period: str = "day", **_: Any) -> list[Row]:
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m"}.get(period)
    if fmt is None:
        raise KhosoError("AUD010", name="period", value=period, reason="day or month")
    keys = ("copies", "ok", "mismatch", "missing", "not_checked", "objects", "bad_objects", "bytes")
    groups: dict[tuple[str, str], Row] = {}
    for ev, _pkg, copy in _events(session, FIXITY_CHECK, since, until):
        f = facts(ev)
        location = copy.location if copy is not None else f.get("location", "")
        row = groups.setdefault((_utc(ev.event_datetime).astimezone(ICT).strftime(fmt), location),
                                dict.fromkeys(keys, 0))
        counts = {k: _int(f.get(k, 0)) for k in ("objects", "mismatch", "missing", "bytes")}
        row["copies"] += 1
        row["objects"] += counts["objects"]
        row["bytes"] += counts["bytes"]
        row["bad_objects"] += counts["mismatch"] + counts["missing"]
        if ev.outcome == Outcome.SUCCESS:
            row["ok"] += 1
        elif ev.outcome == Outcome.NOT_PERFORMED:
            row["not_checked"] += 1
        else:
            row["mismatch" if counts["mismatch"] else "missing"] += 1
    rows = [{"period": p, "location": loc, **v} for (p, loc), v in sorted(groups.items())]
    total = {k: sum(r[k] for r in rows) for k in keys}
    return rows + [{"period": "Tổng cộng", "location": "", **total}]


def incident_record(session: Session, *, since: dt.datetime | None = None,
                    until: dt.datetime | None = None, **_: Any) -> list[Row]:
    repairs: dict[tuple[int | None, str], list[PremisEvent]] = {}
    for ev, _pkg, _copy in _events(session, REPLICATION, since, None):
        if "from" in facts(ev):
            repairs.setdefault((ev.stored_copy_id, ev.object_identifier or ""), []).append(ev)
    rows: list[Row] = []
    # One incident per bad object of one copy, from its first detection until a repair
    # succeeds: an object found bad again before that (an audit without --repair, a repair
    # that failed) is the same incident, not a new row.
    open_until: dict[tuple[int | None, str], dt.datetime | None] = {}
    for ev, pkg, copy in _events(session, FIXITY_CHECK, since, until, outcome=Outcome.FAILURE):
        detected = _utc(ev.event_datetime)
        for kind, path in facts(ev).get("listed", ()):
            if kind not in BAD:
                continue
            incident = (ev.stored_copy_id, path)
            if incident in open_until:
                closed = open_until[incident]
                if closed is None or detected <= closed:
                    continue  # still open, or found again before its repair: reported already
            after = [r for r in repairs.get(incident, []) if _utc(r.event_datetime) >= detected]
            fix = next((r for r in after if r.outcome == Outcome.SUCCESS),
                       after[-1] if after else None)
            open_until[incident] = (_utc(fix.event_datetime)
                                    if fix is not None and fix.outcome == Outcome.SUCCESS else None)
            f = facts(fix) if fix else {}
            result = {RepairStatus.REPAIRED: "Đã khôi phục và kiểm tra lại mã băm",
                      RepairStatus.LOST: "Không còn bản sao tốt: gói được đánh dấu nguy cấp"}.get(
                          f.get("status", ""), "Chưa khắc phục")
            rows.append({
                "no": len(rows) + 1, "detected_at": _shown(detected), "objid": pkg.objid,
                "location": copy.location if copy is not None else "", "object": path,
                "incident": "Sai mã băm (dữ liệu bị thay đổi)" if kind == FixityOutcome.MISMATCH
                else "Mất đối tượng",
                "resolved_at": _shown(fix.event_datetime) if fix else "",
                "source": f.get("from", "") if f.get("from") != "none" else "", "result": result,
                "note": (fix.outcome_detail or "") if fix else ""})
    return rows


REGISTERS = {r.name: r for r in (
    Register("nhat_ky_sao_luu", "Nhật ký sao lưu", "Backup log", (
        ("no", "STT"), ("time", "Thời gian"), ("objid", "Mã gói (OBJID)"), ("version", "Phiên bản"),
        ("kind", "Loại sao lưu"), ("source", "Nguồn"), ("target", "Vị trí lưu trữ"),
        ("object", "Đối tượng"), ("key", "Khóa lưu trữ"), ("objects", "Số đối tượng"),
        ("bytes", "Dung lượng (byte)"), ("outcome", "Kết quả"), ("note", "Ghi chú")), backup_log),
    Register("bien_ban_kiem_tra", "Biên bản kiểm tra", "Inspection record", (
        ("period", "Kỳ kiểm tra"), ("location", "Vị trí lưu trữ"), ("copies", "Số bản sao đã kiểm tra"),
        ("ok", "Đạt"), ("mismatch", "Sai mã băm"), ("missing", "Thiếu đối tượng"),
        ("not_checked", "Không đọc được"), ("objects", "Số đối tượng"),
        ("bad_objects", "Số đối tượng lỗi"), ("bytes", "Dung lượng đã đọc (byte)")), inspection_record),
    Register("bien_ban_xu_ly_su_co", "Biên bản xử lý sự cố và phục hồi", "Incident and recovery record", (
        ("no", "STT"), ("detected_at", "Thời điểm phát hiện"), ("objid", "Mã gói (OBJID)"),
        ("location", "Vị trí lưu trữ"), ("object", "Đối tượng"), ("incident", "Sự cố"),
        ("resolved_at", "Thời điểm khắc phục"), ("source", "Khôi phục từ"),
        ("result", "Kết quả xử lý"), ("note", "Ghi chú")), incident_record),
)}


def register(name: str) -> Register:
    try:
        return REGISTERS[name]
    except KeyError:
        raise KhosoError("AUD011", name=name, known=", ".join(REGISTERS)) from None


def build_register(session: Session, name: str, *, since: dt.datetime | None = None,
                   until: dt.datetime | None = None, period: str = "day") -> list[Row]:
    """Rows of register ``name`` for events in ``[since, until)``."""
    return register(name).build(session, since=since, until=until, period=period)


def write_register(name: str, rows: Sequence[Row], stream: TextIO, *, fmt: str = "csv",
                   since: dt.datetime | None = None, until: dt.datetime | None = None) -> None:
    """CSV (UTF-8 with BOM so spreadsheet software shows the diacritics) or JSON."""
    reg = register(name)
    if fmt == "csv":
        stream.write("\ufeff")
        out = csv.writer(stream)
        out.writerow([label for _, label in reg.columns])
        out.writerows([row.get(key, "") for key, _ in reg.columns] for row in rows)
    elif fmt == "json":
        json.dump({"register": reg.name, "title": reg.title_vi, "title_en": reg.title_en,
                   "from": _shown(since), "to": _shown(until), "timezone": "UTC+07:00",
                   "columns": [{"key": k, "label": v} for k, v in reg.columns], "rows": list(rows)},
                  stream, ensure_ascii=False, indent=2)
    else:
        raise KhosoError("AUD010", name="format", value=fmt, reason="csv or json")
