"""The Phụ lục VII registers, produced from the events an audit with repair wrote."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from preservation.errors import KhosoError
from storage.audit import run_audit
from storage.registers import REGISTERS, build_register, write_register
from tests.support.audit import make_aip

from .test_audit import damage_three_ways


@pytest.fixture
def audited(catalog, storages, raw_s3):
    aip = make_aip(catalog, storages, "KHOSO.H49.2001.160")
    make_aip(catalog, storages, "KHOSO.H49.2001.161")
    damage_three_ways(aip, storages, raw_s3)
    run_audit(catalog, storages, due_only=False, repair=True, actor="tester")
    return aip


def test_backup_log_lists_every_restored_object(catalog, audited):
    with catalog.session() as s:
        rows = build_register(s, "nhat_ky_sao_luu")
    assert [r["no"] for r in rows] == [1, 2, 3]
    assert {r["kind"] for r in rows} == {"Khôi phục bản sao"}
    assert {(r["target"], r["object"]) for r in rows} == {
        ("fs1", "data/representations/rep1/data/van-ban.pdf"), ("fs2", "data/METS.xml"),
        ("s3", "manifest-sha256.txt")}
    assert all(r["source"] in {"fs1", "fs2", "s3"} and r["source"] != r["target"] for r in rows)
    assert {r["outcome"] for r in rows} == {"Thành công"} and all(r["objid"] == audited.objid for r in rows)


def test_inspection_record_counts_per_location_with_totals(catalog, audited):
    with catalog.session() as s:
        rows = build_register(s, "bien_ban_kiem_tra", period="month")
        assert build_register(s, "bien_ban_kiem_tra", since=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))[
            0]["copies"] == 0
    *per_location, total = rows
    assert [r["location"] for r in per_location] == ["fs1", "fs2", "s3"]
    assert total["period"] == "Tổng cộng"
    assert {k: total[k] for k in ("copies", "ok", "mismatch", "missing", "not_checked", "objects",
                                  "bad_objects")} == {
        "copies": 6, "ok": 3, "mismatch": 2, "missing": 1, "not_checked": 0, "objects": 42, "bad_objects": 3}
    assert total["bytes"] > 0


def test_incident_record_pairs_each_fault_with_its_repair(catalog, audited):
    with catalog.session() as s:
        rows = build_register(s, "bien_ban_xu_ly_su_co")
    assert len(rows) == 3
    by_location = {r["location"]: r for r in rows}
    assert by_location["fs2"]["incident"] == "Mất đối tượng"
    assert by_location["fs1"]["incident"].startswith("Sai mã băm")
    assert {r["result"] for r in rows} == {"Đã khôi phục và kiểm tra lại mã băm"}
    assert all(r["resolved_at"] >= r["detected_at"] and r["source"] for r in rows)


def test_registers_write_csv_with_vietnamese_headers_and_json_with_keys(catalog, audited):
    for name, reg in REGISTERS.items():
        with catalog.session() as s:
            rows = build_register(s, name)
        out = io.StringIO()
        write_register(name, rows, out, fmt="csv")
        text = out.getvalue()
        assert text.startswith("\ufeff")
        header, *body = list(csv.reader(io.StringIO(text[1:])))
        assert header == [label for _, label in reg.columns] and len(body) == len(rows)
        out = io.StringIO()
        write_register(name, rows, out, fmt="json")
        doc = json.loads(out.getvalue())
        assert doc["title"] == reg.title_vi and doc["rows"] == json.loads(json.dumps(rows))
        assert [c["key"] for c in doc["columns"]] == [k for k, _ in reg.columns]


def test_unknown_register_format_or_period_is_refused(catalog):
    with catalog.session() as s:
        with pytest.raises(KhosoError) as err:
            build_register(s, "so_khong_co")
        assert err.value.code == "AUD011" and "nhat_ky_sao_luu" in err.value.message("vi")
        with pytest.raises(KhosoError) as err:
            build_register(s, "bien_ban_kiem_tra", period="week")
        assert err.value.code == "AUD010"
    with pytest.raises(KhosoError) as err:
        write_register("nhat_ky_sao_luu", [], io.StringIO(), fmt="xlsx")
    assert err.value.code == "AUD010"


def test_registers_are_built_from_the_events_data_not_their_text(catalog, audited):
    """The text of an event is for people (it may be reworded); the registers read its data."""
    import sqlalchemy as sa

    from preservation.catalog.models import PremisEvent

    with catalog.session() as s:
        before = {name: build_register(s, name) for name in REGISTERS}
        assert all(e.outcome_data for e in s.scalars(sa.select(PremisEvent).where(
            PremisEvent.event_type.in_(("fixity check", "replication")))))
    with catalog.session() as s:
        s.execute(sa.update(PremisEvent).values(detail="(reworded)", outcome_detail="(reworded)"))
    with catalog.session() as s:
        after = {name: build_register(s, name) for name in REGISTERS}
    for name in REGISTERS:  # only the note column shows the text
        assert [{k: v for k, v in r.items() if k != "note"} for r in after[name]] == [
            {k: v for k, v in r.items() if k != "note"} for r in before[name]]
    assert len(after["bien_ban_xu_ly_su_co"]) == 3
