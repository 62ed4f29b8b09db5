"""Registering a transfer (đăng ký nộp lưu) and choosing its hồ sơ: hostile and wrong-order
inputs are refused with their code and leave no transfer behind; the due list, the plan's
share and the deadline warnings (the endpoint, the CLI and the daily job) count from the year
a hồ sơ entered this archive."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from access_api.services import transfers
from access_api.services.base import ServiceContext
from preservation.catalog.models import AuditEntry, RecordFile, Transfer
from tests.support.api_submissions import client, token_for
from tests.support.cli import cli_env, run
from tests.support.sips import make_sip
from tests.support.transfers import planned

pytestmark = pytest.mark.integration
CODE = "TTLTNA.H49.64.33.2001.160"
LONG = "TTLTNA.H49.64.33.2001.170"


@pytest.fixture
def world(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "a")).accepted
    assert khoso.ingest(make_sip(tmp_path / "b", file_code="H49.64.33.2001.170",
                                 hoso={"maintenance": "04"})).accepted
    return khoso, client(khoso), token_for(khoso, "luu-tru-vien", "archivist")


def _register(api, head, **changes):
    body = {"fonds": "P623", "title": "Khối tài liệu", "receiver": "TTLT lịch sử",
            "planned_on": planned(), "records": [CODE], **changes}
    return api.post("/api/v1/transfers", headers=head, json=body)


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"planned_on": (dt.date.today() + dt.timedelta(days=300)).isoformat()}, 422, "TRF001"),
    ({"fonds": "P999"}, 404, "TRF023"),
    ({"records": ["TTLTNA.H49.64.33.1999.1"]}, 422, "TRF002"),
    ({"records": [LONG]}, 422, "TRF003"),
    ({"records": None}, 422, "TRF006"),  # nothing is due within 13 months of its entry
    ({"records": []}, 422, "API001"),
    ({"title": "tiêu đề\x00"}, 422, "API001"),
    ({"title": "x" * 501}, 422, "API001"),
    ({"planned_on": "31/12/2030"}, 422, "API001"),
    ({"records": ["x"] * 5001}, 422, "API001"),
    ({"unknown": 1}, 422, "API001"),
])
def test_a_bad_registration_is_refused_and_leaves_nothing(world, changes, status, code):
    khoso, api, head = world
    resp = _register(api, head, **changes)
    assert resp.status_code == status and resp.json["code"] == code, resp.json
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Transfer.id))) == 0


def test_a_hoso_is_in_one_open_transfer_at_a_time(world):
    khoso, api, head = world
    assert _register(api, head).status_code == 201
    resp = _register(api, head)
    assert resp.status_code == 422 and resp.json["code"] == "TRF005"
    assert resp.json["issues"][0]["path"] == CODE


@pytest.mark.parametrize("bad", ["../../etc", "x" * 5000, "00000000-0000-0000-0000-00000000000g",
                                 "%00"])
def test_unknown_transfers_are_not_found(world, bad):
    _khoso, api, head = world
    resp = api.get(f"/api/v1/transfers/{bad}", headers=head)
    assert resp.status_code == 404


def test_due_hoso_the_plan_share_and_the_warnings(world, tmp_path):
    khoso, api, head = world
    year = dt.date.today().year
    # entered this year: due at the end of the fifth year after, the plan's target the third
    on = dt.date(year + 5, 12, 10)
    due = api.get(f"/api/v1/transfers/due?on={on}", headers=head).json
    (record,) = due["records"]  # the 30-year hồ sơ is not permanent
    assert record["arcFileCode"] == CODE and record["days_left"] == 21
    assert record["deadline"] == f"{year + 5}-12-31" and record["target"] == f"{year + 3}-12-31"
    assert due["plan"] == {"target_years": 3, "goal": 0.8, "permanent_due_by_target": 1,
                           "transferred_within_target": 0, "share": 0.0}
    assert api.get(f"/api/v1/transfers/due?on={year}-12-01", headers=head).json["records"] == []
    warned = api.get(f"/api/v1/transfers/warnings?on={on}", headers=head).json["items"]
    assert [w["code"] for w in warned] == ["TRF020"] and CODE in warned[0]["message"]
    late = api.get(f"/api/v1/transfers/warnings?on={year + 6}-01-05", headers=head).json["items"]
    assert [w["code"] for w in late] == ["TRF026"]
    # the CLI says the same (exit 1: there are warnings)
    result = run(cli_env(khoso), "transfer", "warnings", "--on", on.isoformat())
    assert result.exit_code == 1 and "TRF020" in result.output
    # the daily job writes them to the audit log
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    assert [i.code for i in transfers.scheduled_warnings(ctx, on=on)] == ["TRF020"]
    with khoso.catalog.session() as s:
        entry = s.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "transfer.deadline_warning"))
        assert entry.detail["count"] == 1 and entry.detail["warnings"][0]["path"] == CODE
    # once registered, the hồ sơ is in a transfer: no more warning for it; the transfer is
    # warned about when its planned date comes near and it is not sent
    planned_on = dt.date(year + 6, 1, 2)
    resp = _register(api, head, records=None, planned_on=planned_on.isoformat())
    assert resp.status_code == 201 and resp.json["items"][0]["arcFileCode"] == CODE
    found = transfers.warnings(ctx, on=dt.date(year + 5, 12, 20))
    assert [i.code for i in found] == ["TRF021"]
    assert transfers.scheduled_warnings(ctx) == []  # nothing due today: no entry
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.action == "transfer.deadline_warning")) == 1
        s.execute(sa.update(RecordFile).where(RecordFile.arc_file_code == CODE)
                  .values(state="review_disposal"))
    # a hồ sơ no longer active (proposed for destruction) cannot be registered
    resp = _register(api, head, records=[CODE])
    assert resp.status_code == 422 and resp.json["code"] == "TRF004"


def test_dates_no_one_means_are_refused_or_computed_safely(world):
    khoso, api, head = world
    for path in ("/api/v1/transfers/warnings?on=9999-12-31", "/api/v1/transfers/due?on=0001-01-01",
                 "/api/v1/transfers/due?on=2026-02-30"):
        resp = api.get(path, headers=head)
        assert resp.status_code == 422 and resp.json["code"] == "API001", resp.json
    resp = _register(api, head, planned_on="9999-12-31")
    assert resp.status_code == 422 and resp.json["code"] == "API001"
    result = run(cli_env(khoso), "transfer", "warnings", "--on", "9999-12-31")
    assert result.exit_code == 1 and "TRF026" in result.output  # long overdue, no crash
