"""The sổ nhập, sổ xuất and equipment reports (#15): their rows are what the catalog holds,
built through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from access_api.services.base import ServiceContext
from access_api.services.reports import REPORTS
from access_api.services.reports.repository import ICT
from access_api.services.reports.spec import ReportParams
from preservation.catalog.models import PaperFile, PaperLoan, RepositoryEquipment
from tests.support.catalog_api import make_api
from tests.support.paper_repository import PAPER, TODAY
from tests.support.paper_repository import paper as _paper
from tests.support.paper_repository import post as _post
from tests.support.paper_repository import store as _store


def _rows(khoso, name, **params):
    spec = REPORTS[name]
    rows = list(spec.rows(ServiceContext(khoso.settings, khoso.catalog), ReportParams(**params)))
    assert all(len(r) == len(spec.columns) for r in rows)
    return rows


def _today_ict() -> str:
    return dt.datetime.now(ICT).strftime("%d/%m/%Y")


def test_registers_match_the_catalog(khoso):
    api = make_api(khoso)
    _store(api, capacity=5)
    assert _paper(api).status_code == 201
    assert _paper(api, "TTLTNA.K1.2", fonds=None, page_count=7).status_code == 201
    assert _post(api, f"/api/v1/paper-files/{PAPER}/check-out",
                 {"borrower": "Nguyễn Văn An", "purpose": "Tra cứu"}).status_code == 201
    assert _post(api, f"/api/v1/paper-files/{PAPER}/check-in",
                 {"condition": "worn"}).status_code == 200
    assert _post(api, "/api/v1/paper-files/TTLTNA.K1.2/check-out",
                 {"borrower": "Lê Thị Hoa", "purpose": "Triển lãm"}).status_code == 201
    out = _rows(khoso, "so_xuat")
    with khoso.catalog.session() as s:
        loans = s.execute(sa.select(PaperLoan.borrower, PaperFile.code, PaperLoan.due_on)
                          .join(PaperFile, PaperFile.id == PaperLoan.paper_file_id)
                          .order_by(PaperLoan.id)).all()
    assert [(r[0], r[2], r[5], r[7]) for r in out] == [
        (n, code, borrower, due.strftime("%d/%m/%Y"))
        for n, (borrower, code, due) in enumerate(loans, 1)]
    assert out[0][4] == "K1/G2/H3" and out[0][9] == _today_ict() and out[1][9] == ""
    # sổ nhập: two registrations then one return, in time order
    came_in = _rows(khoso, "so_nhap")
    assert [(r[2], r[6]) for r in came_in] == [
        (PAPER, "Nhập kho"), ("TTLTNA.K1.2", "Nhập kho"), (PAPER, "Trả sau khi mượn")]
    assert came_in[2][5] == "Nguyễn Văn An" and came_in[2][7] == "Bình thường, đã cũ"
    assert came_in[1][4] == 7
    english = _rows(khoso, "so_nhap", lang="en")
    assert english[2][6] == "Returned after a loan"
    # filters: fonds and period
    assert [r[2] for r in _rows(khoso, "so_nhap", fonds="P623")] == [PAPER, PAPER]
    assert _rows(khoso, "so_xuat", since=TODAY + dt.timedelta(days=2)) == []
    assert len(_rows(khoso, "so_xuat", since=TODAY - dt.timedelta(days=1),
                     until=TODAY + dt.timedelta(days=1))) == 2


def test_equipment_report_matches_the_catalog(khoso):
    api = make_api(khoso)
    _store(api, capacity=5)
    assert _post(api, "/api/v1/repositories", {"code": "K2", "name": "Kho phụ",
                                               "area_m2": 30}).status_code == 201
    assert _paper(api).status_code == 201
    for label, kind, nxt in (("Máy hút ẩm", "dehumidifier", TODAY - dt.timedelta(days=1)),
                             ("Bình bột", "fire_extinguisher", TODAY + dt.timedelta(days=9))):
        assert _post(api, "/api/v1/repositories/K1/equipment", {
            "kind": kind, "label": label, "condition": "good",
            "next_service_on": str(nxt)}).status_code == 201
    rows = _rows(khoso, "thiet_bi_kho")
    with khoso.catalog.session() as s:
        labels = s.scalars(sa.select(RepositoryEquipment.label)
                           .order_by(RepositoryEquipment.id)).all()
    assert [r[6] for r in rows] == [*labels, ""]
    assert [r[1:6] for r in rows] == [("K1 — Kho số 1", "120.5", 1, 2, 1)] * 2 + [
        ("K2 — Kho phụ", "30", 0, 0, 0)]
    assert (rows[0][7], rows[0][12]) == ("Máy hút ẩm", "Có")
    assert rows[1][12] == ""
    assert {"so_nhap", "so_xuat", "thiet_bi_kho"} <= set(REPORTS)
