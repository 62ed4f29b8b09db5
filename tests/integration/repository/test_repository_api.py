"""The paper repository (#15) driven through the API on SQLite and PostgreSQL: repositories,
shelves, boxes, equipment and its overdue service, archive staff, paper hồ sơ linked to the
catalog's digitised record, check-out and check-in with overdue returns, and file plans
matched against the hồ sơ the catalog holds. Every refusal has its code and leaves nothing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from preservation.catalog.models import AuditEntry, PaperFile, PaperLoan, PaperRepository
from tests.support.catalog_api import make_api
from tests.support.paper_repository import PAPER, TODAY
from tests.support.paper_repository import codes as _codes
from tests.support.paper_repository import get as _get
from tests.support.paper_repository import paper as _paper
from tests.support.paper_repository import post as _post
from tests.support.paper_repository import store as _store
from tests.support.sheets import FILE_CODE
from tests.support.sips import ORGAN, make_sip


def test_repository_shelves_boxes_and_equipment(khoso):
    api = make_api(khoso)
    _store(api)
    repo = _get(api, "/api/v1/repositories/K1")
    assert repo.status_code == 200
    assert repo.json["area_m2"] == 120.5 and repo.json["shelves"] == ["G2"]
    assert [(b["code"], b["capacity"], b["files"], b["full"]) for b in repo.json["boxes"]] == [
        ("H3", 2, 0, False), ("H4", 5, 0, False)]
    late = _post(api, "/api/v1/repositories/K1/equipment", {
        "kind": "dehumidifier", "label": "Máy hút ẩm Edison", "condition": "good",
        "last_service_on": str(TODAY - dt.timedelta(days=200)),
        "next_service_on": str(TODAY - dt.timedelta(days=20))})
    assert late.status_code == 201 and late.json["overdue"] is True
    fine = _post(api, "/api/v1/repositories/K1/equipment", {
        "kind": "fire_extinguisher", "label": "Bình CO2", "quantity": 4, "condition": "good",
        "next_service_on": str(TODAY + dt.timedelta(days=90))})
    assert fine.status_code == 201 and fine.json["overdue"] is False
    overdue = _get(api, "/api/v1/equipment?overdue=true", role="preservation_officer")
    assert overdue.status_code == 200
    assert [e["label"] for e in overdue.json["items"]] == ["Máy hút ẩm Edison"]
    # a service visit moves the next date: no longer overdue
    serviced = _post(api, f"/api/v1/equipment/{late.json['id']}", {
        "last_service_on": str(TODAY), "next_service_on": str(TODAY + dt.timedelta(days=180))},
        method="patch")
    assert serviced.status_code == 200 and serviced.json["overdue"] is False
    assert _get(api, "/api/v1/equipment?overdue=true").json["items"] == []
    with khoso.catalog.session() as s:
        actions = s.scalars(sa.select(AuditEntry.action)
                            .where(AuditEntry.action.like("repository.%"))).all()
    assert actions == ["repository.create", "repository.shelf_add", "repository.box_add",
                       "repository.box_add", "repository.equipment_add",
                       "repository.equipment_add", "repository.equipment_service"]


def test_hostile_repository_input_is_refused_and_keeps_nothing(khoso):
    api = make_api(khoso)
    bad = [
        {"code": "K9", "name": "Kho", "area_m2": -5},
        {"code": "K9", "name": "Kho", "area_m2": 0},
        {"code": "K 9", "name": "Kho", "area_m2": 10},
        {"code": "K9", "name": "x" * 301, "area_m2": 10},
        {"code": "K9", "name": "Kho\x00", "area_m2": 10},
        {"code": "K9" * 50, "name": "Kho", "area_m2": 10},
    ]
    for body in bad:
        resp = _post(api, "/api/v1/repositories", body)
        assert resp.status_code == 422, (body, resp.json)
    _store(api)
    dup = _post(api, "/api/v1/repositories", {"code": "K1", "name": "Kho khác", "area_m2": 9})
    assert dup.status_code == 409 and dup.json["code"] == "KHO002"
    assert _post(api, "/api/v1/repositories/K1/shelves", {"code": "G2"}).json["code"] == "KHO002"
    assert _post(api, "/api/v1/repositories/K1/boxes",
                 {"shelf": "G2", "code": "H3", "capacity": 3}).json["code"] == "KHO002"
    unknown = _post(api, "/api/v1/repositories/K1/boxes",
                    {"shelf": "G9", "code": "H1", "capacity": 3})
    assert unknown.status_code == 404 and unknown.json["code"] == "KHO001"
    assert _post(api, "/api/v1/repositories/KX/shelves", {"code": "G1"}).status_code == 404
    for garbage in ("%00", "x" * 5000, "..%2F..", "K1%0A"):
        assert _get(api, f"/api/v1/repositories/{garbage}").status_code == 404
    assert _post(api, "/api/v1/equipment/99999999999999", {}, method="patch").status_code == 404
    assert _post(api, "/api/v1/equipment/7", {}, method="patch").json["code"] == "KHO001"
    wrong_dates = _post(api, "/api/v1/repositories/K1/equipment", {
        "kind": "camera", "label": "Camera", "condition": "good",
        "last_service_on": str(TODAY), "next_service_on": str(TODAY - dt.timedelta(days=1))})
    assert wrong_dates.status_code == 422 and "KHO006" in _codes(wrong_dates)
    assert _post(api, "/api/v1/repositories/K1/equipment", {
        "kind": "robot", "label": "x", "condition": "good"}).status_code == 422
    with khoso.catalog.session() as s:
        assert s.scalars(sa.select(PaperRepository.code)).all() == ["K1"]


def test_roles(khoso):
    api = make_api(khoso)
    _store(api)
    for role in ("reader", "agency_submitter", "preservation_officer"):
        resp = _post(api, "/api/v1/repositories", {"code": "K7", "name": "K", "area_m2": 1},
                     role=role)
        assert resp.status_code == 403, role
        assert _get(api, "/api/v1/paper-files", role=role).status_code == 403
    for role in ("reader", "agency_submitter"):
        assert _get(api, "/api/v1/repositories", role=role).status_code == 403
    assert _get(api, "/api/v1/repositories", role="preservation_officer").status_code == 200
    assert _get(api, "/api/v1/repositories", role="admin").status_code == 200
    assert _get(api, "/api/v1/repositories", role=None).status_code == 401


def test_paper_file_linked_to_the_digitised_record_and_box_capacity(khoso, tmp_path):
    outcome = khoso.ingest(make_sip(tmp_path / "sip", hoso={
        "confidenceLevel": "02", "paperFileCode": PAPER, "numberOfPaper": "20"}))
    assert outcome.accepted
    api = make_api(khoso)
    _store(api, capacity=2)
    made = _paper(api)
    assert made.status_code == 201, made.json
    assert made.json["record"] is not None and FILE_CODE in made.json["record"]
    assert (made.json["repository"], made.json["shelf"], made.json["box"]) == ("K1", "G2", "H3")
    got = _get(api, f"/api/v1/paper-files/{PAPER}")
    assert got.status_code == 200 and got.json["code"] == PAPER
    assert _paper(api).json["code"] == "KHO002"
    assert _paper(api, "TTLTNA.K1/G2/H3.16").status_code == 201
    full = _paper(api, "TTLTNA.K1/G2/H3.17")
    assert full.status_code == 409 and full.json["code"] == "KHO003"
    assert "2/2" in full.json["message"]
    for code in ("khong-co-dau-cham", "TTLTNA..1", "TTLTNA.K1.1 2", "TT\x00.K.1",
                 "T." + "x" * 120 + ".1"):
        resp = _paper(api, code, box="H4")
        assert resp.status_code == 422, code
        assert resp.json["code"] in ("KHO007", "API001"), resp.json
    no_dots = _paper(api, "khong-co-dau-cham", box="H4")
    assert _codes(no_dots) == ["KHO007", "KHO010"]
    assert "[Mã cơ quan lưu trữ].[Số kho/giá/hộp].[Số hồ sơ giấy]" in \
        no_dots.json["issues"][0]["message"]
    assert _paper(api, "TTLTNA.K1.99", box="H9").json["code"] == "KHO001"
    assert _paper(api, "TTLTNA.K1.98", box="H4", fonds="P999").json["code"] == "KHO001"
    assert _paper(api, "TTLTNA.K1.97", box="H4", page_count=-1).status_code == 422
    # moving into a full box is refused too; into a free one is fine
    move = _post(api, "/api/v1/paper-files/TTLTNA.K1/G2/H3.16",
                 {"move_to": {"repository": "K1", "shelf": "G2", "box": "H4"},
                  "condition": "faded"}, method="patch")
    assert move.status_code == 200 and move.json["box"] == "H4"
    assert move.json["condition"] == "faded"
    with khoso.catalog.session() as s:
        assert sorted(s.scalars(sa.select(PaperFile.code))) == [PAPER, "TTLTNA.K1/G2/H3.16"]


def test_check_out_and_in_with_overdue_returns(khoso):
    api = make_api(khoso)
    _store(api, capacity=2)
    assert _paper(api).status_code == 201
    assert _paper(api, "TTLTNA.K1.2").status_code == 201
    out = _post(api, f"/api/v1/paper-files/{PAPER}/check-out",
                {"borrower": "Nguyễn Văn An", "purpose": "Tra cứu phục vụ công vụ",
                 "due_on": str(TODAY + dt.timedelta(days=7))})
    assert out.status_code == 201 and out.json["out_by"] == "u-archivist"
    again = _post(api, f"/api/v1/paper-files/{PAPER}/check-out",
                  {"borrower": "Trần Thị Bình", "purpose": "Xem"})
    assert again.status_code == 409 and again.json["code"] == "KHO004"
    assert "Nguyễn Văn An" in again.json["message"]
    assert _get(api, f"/api/v1/paper-files/{PAPER}").json["checked_out"] is True
    # a past due date is refused; then the second hồ sơ goes out and is made overdue
    past = _post(api, "/api/v1/paper-files/TTLTNA.K1.2/check-out",
                 {"borrower": "B", "purpose": "P", "due_on": str(TODAY - dt.timedelta(days=1))})
    assert past.status_code == 422 and "KHO006" in _codes(past)
    late = _post(api, "/api/v1/paper-files/TTLTNA.K1.2/check-out",
                 {"borrower": "Lê Văn Cường", "purpose": "Triển lãm"})
    assert late.status_code == 201
    assert late.json["due_on"] == str(TODAY + dt.timedelta(days=30))
    with khoso.catalog.session() as s:
        s.execute(sa.update(PaperLoan).where(PaperLoan.id == late.json["id"])
                  .values(due_on=TODAY - dt.timedelta(days=3)))
    overdue = _get(api, "/api/v1/paper-loans?overdue=true")
    assert [(i["code"], i["overdue"]) for i in overdue.json["items"]] == [("TTLTNA.K1.2", True)]
    # moving a checked-out hồ sơ is refused; checking in while the target box is full too
    moving = _post(api, f"/api/v1/paper-files/{PAPER}",
                   {"move_to": {"repository": "K1", "shelf": "G2", "box": "H4"}},
                   method="patch")
    assert moving.json["code"] == "KHO011"
    back = _post(api, f"/api/v1/paper-files/{PAPER}/check-in", {"condition": "worn"})
    assert back.status_code == 200 and back.json["returned_by"] == "u-archivist"
    assert back.json["return_condition"] == "worn"
    twice = _post(api, f"/api/v1/paper-files/{PAPER}/check-in", {})
    assert twice.status_code == 409 and twice.json["code"] == "KHO005"
    assert _get(api, f"/api/v1/paper-files/{PAPER}").json["condition"] == "worn"
    assert _post(api, "/api/v1/paper-files/TTLTNA.K9.9/check-out",
                 {"borrower": "B", "purpose": "P"}).json["code"] == "KHO001"
    assert _get(api, "/api/v1/paper-loans?open=true").json["total"] == 1
    assert _get(api, "/api/v1/paper-loans").json["total"] == 2
    with khoso.catalog.session() as s:
        actions = s.scalars(sa.select(AuditEntry.action)
                            .where(AuditEntry.action.like("paper.check%"))).all()
    assert actions == ["paper.check_out", "paper.check_out", "paper.check_in"]


def test_staff_and_file_plan_against_the_catalog(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    api = make_api(khoso)
    staff = _post(api, "/api/v1/archive-staff", {"agency": ORGAN, "full_name": "Phạm Thị Dung",
                                                 "position": "Văn thư - lưu trữ"})
    assert staff.status_code == 201
    assert _post(api, "/api/v1/archive-staff",
                 {"agency": "H00.00.00", "full_name": "X"}).json["code"] == "KHO001"
    listed = _get(api, f"/api/v1/archive-staff?agency={ORGAN}")
    assert [s["full_name"] for s in listed.json["items"]] == ["Phạm Thị Dung"]
    plan = _post(api, f"/api/v1/file-plans/{ORGAN}/2001", {"entries": [
        {"file_code": FILE_CODE, "title": "Hồ sơ thành lập Sở Nội vụ", "maintenance": "01"},
        {"file_code": "H49.64.33.2001.161", "title": "Hồ sơ chưa nộp"}]})
    assert plan.status_code == 201, plan.json
    assert (plan.json["planned"], plan.json["submitted"], plan.json["percent"]) == (2, 1, 50.0)
    entries = {e["file_code"]: e["submitted"] for e in plan.json["entries"]}
    assert entries == {FILE_CODE: True, "H49.64.33.2001.161": False}
    dup = _post(api, f"/api/v1/file-plans/{ORGAN}/2001",
                {"entries": [{"file_code": FILE_CODE, "title": "lại"}]})
    assert dup.status_code == 409 and dup.json["code"] == "KHO002"
    twice = _post(api, f"/api/v1/file-plans/{ORGAN}/2002", {"entries": [
        {"file_code": "A", "title": "a"}, {"file_code": "A", "title": "b"}]})
    assert twice.status_code == 422 and "KHO006" in _codes(twice)
    assert _get(api, f"/api/v1/file-plans/{ORGAN}/2002").json["planned"] == 0
    assert _get(api, f"/api/v1/file-plans/{ORGAN}/99999999999").status_code == 422
    assert _get(api, "/api/v1/file-plans/H00.00.00/2001").status_code == 404
    again = _get(api, f"/api/v1/file-plans/{ORGAN}/2001")
    assert again.json["submitted"] == 1 and again.json["planned"] == 2


def test_hostile_paper_input_loses_nothing(khoso):
    api = make_api(khoso)
    _store(api)
    assert _paper(api).status_code == 201
    for extra in ({"title": "x" * 1001}, {"title": ""}, {"maintenance": "99"},
                  {"condition": "burnt"}, {"page_count": 10**12}, {"year": -3},
                  {"fonds": "P\x00"}, {"repository": "K1'; DROP TABLE paper_file;--"},
                  {"surprise": 1}):
        resp = _paper(api, "TTLTNA.K1.77", box="H4", **extra)
        assert resp.status_code == 422, (extra, resp.json)
    for body in ({"borrower": "b" * 201, "purpose": "P"}, {"borrower": "B", "purpose": "\x07"},
                 {"borrower": "B", "purpose": "P", "due_on": "mai"},
                 {"borrower": "B", "purpose": "P",
                  "due_on": str(TODAY + dt.timedelta(days=400))}):
        resp = _post(api, f"/api/v1/paper-files/{PAPER}/check-out", body)
        assert resp.status_code == 422, (body, resp.json)
    not_object = api.client.post("/api/v1/paper-files", json=["x"], headers=api.headers("admin"))
    assert not_object.status_code == 422
    huge = api.client.post("/api/v1/paper-files", data=b"{" + b" " * (5 << 20) + b"}",
                           headers={**api.headers("archivist"),
                                    "Content-Type": "application/json"})
    assert huge.status_code == 413
    for garbage in ("%00", "x" * 3000, "TTLTNA.K1.1%0A", "../../etc/passwd", "💥.💥.💥"):
        assert _get(api, f"/api/v1/paper-files/{garbage}").status_code == 404, garbage
        assert _get(api, f"/api/v1/digitisation-queue/{garbage}").status_code == 404, garbage
    with khoso.catalog.session() as s:
        assert s.scalars(sa.select(PaperFile.code)).all() == [PAPER]
        assert s.scalar(sa.select(sa.func.count()).select_from(PaperLoan)) == 0
