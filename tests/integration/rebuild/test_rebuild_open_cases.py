"""Destruction cases not yet executed come back with a catalog rebuilt from storage: one under
review (with an opinion and a hồ sơ added after it was opened), one decided, one whose
execution started and stopped on a location failing. Each keeps its items, council opinions,
decisions and the items' lines in the Danh mục; the rebuilt catalog answers the case API the
same, and the cases go on there (a decided one is executed, a stopped execution finishes).

A change a location cannot store is not made (DES201). The newest state file that is damaged is
passed over for the one before; a case whose every state file is damaged is reported (RBD201)
and the rest is rebuilt. Rows are compared on natural keys, never on surrogate ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization as ser

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.disposal import appraisal, cases, execution
from access_api.services.disposal.record import storage_failed
from preservation.accounts import create_user
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    CouncilMember,
    DisposalCase,
    DisposalCaseItem,
    DisposalListing,
    RecordFile,
)
from preservation.errors import Unavailable
from preservation.issues import Text
from storage.errors import StorageError
from storage.locations import open_storage
from storage.rebuild import RebuildReport, rebuild_catalog
from tests.support.pki import make_root, make_signer, minimal_pdf, sign_pdf
from tests.support.rebuild import ARCHIVE
from tests.support.sips import make_sip

ADMIN = Identity("quan-tri-2", frozenset({UserRole.ADMIN}))
ARCHIVIST = Identity("luu-tru", frozenset({UserRole.ARCHIVIST}))
MEMBER = Identity("hoi-dong-1", frozenset({UserRole.ARCHIVIST}))
CODES = [f"H49.64.33.2001.{n}" for n in (171, 172, 173, 174)]  # 10 years from 2001: expired


@dataclasses.dataclass
class Open:
    ctx: ServiceContext
    settings: Any
    review: str
    decided: str
    started: str

    def folder(self, location: str, case_id: str) -> Path:
        return Path(self.settings.location(location).path) / ARCHIVE / "_disposal" / case_id


@pytest.fixture
def open_cases(khoso, monkeypatch) -> Open:
    for code in CODES:
        assert khoso.ingest(make_sip(khoso.tmp / code, hoso={"maintenance": "06"},
                                     file_code=code)).accepted
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    assert len(appraisal.scan(ctx, ADMIN).codes) == 4
    with khoso.catalog.session() as s:
        create_user(s, "hoi-dong-1", "Mật-khẩu-đủ-dài-2026", [UserRole.ARCHIVIST.value])
    ca, ca_key = make_root("Khoso Test Root")
    trust = Path(khoso.settings.trust_dir)
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(ca.public_bytes(ser.Encoding.PEM))
    cert, key = make_signer("Giám đốc Sở Nội vụ", ca, ca_key)

    def decision() -> bytes:
        return sign_pdf(minimal_pdf("Quyet dinh"), cert, key, ca)

    def case(records: list[str], title: str) -> str:
        made = cases.create(ctx, ARCHIVIST, title=title, explanation="Hết thời hạn bảo quản.",
                            records=records, council=["hoi-dong-1"])
        return str(made["id"])

    review = case([CODES[0]], "Đợt hủy đang xét")
    cases.add_record(ctx, ARCHIVIST, review, CODES[1])
    cases.record_opinion(ctx, MEMBER, review, "disagree", "Cần xem lại hồ sơ 171")
    decided = case([CODES[2]], "Đợt hủy đã có quyết định")
    cases.record_opinion(ctx, MEMBER, decided, "agree", None)
    cases.decide(ctx, ADMIN, decided, data=decision(), number="12/QĐ-SNV",
                 date=dt.date(2026, 12, 7))
    started = case([CODES[3]], "Đợt hủy dừng giữa chừng")
    cases.record_opinion(ctx, MEMBER, started, "agree", "Đồng ý")
    cases.decide(ctx, ADMIN, started, data=decision(), number="13/QĐ-SNV",
                 date=dt.date(2026, 12, 7))

    def failing(ctx: Any, targets: Any, now: Any) -> None:
        raise storage_failed("replica2", Text("xóa bản sao", "deleting copies"),
                             StorageError("STO001", "x", transient=True, location="replica2",
                                          reason="disk full"))

    with monkeypatch.context() as m:
        m.setattr(execution, "_delete", failing)
        with pytest.raises(Unavailable):
            execution.execute(ctx, ARCHIVIST, started)
    return Open(ctx, khoso.settings, review, decided, started)


def case_rows(catalog: Catalog) -> dict[str, Any]:
    with catalog.session() as s:
        code = {r.id: r.arc_file_code or r.file_code for r in s.scalars(sa.select(RecordFile))}
        cols = lambda obj, leave=(): tuple(  # noqa: E731
            (c.name, _utc(getattr(obj, c.name))) for c in obj.__table__.columns
            if c.name not in ("id", "updated_at", *leave))
        return {
            "cases": sorted((cols(c) for c in s.scalars(sa.select(DisposalCase))), key=repr),
            "council": sorted((cols(m) for m in s.scalars(sa.select(CouncilMember))), key=repr),
            "items": sorted(((i.case_id, code[i.record_file_id], i.added_by, _utc(i.added_at))
                             for i in s.scalars(sa.select(DisposalCaseItem))), key=repr),
            "listing": sorted(((code[r.record_file_id], r.reason, r.detail, _utc(r.listed_at),
                                r.listed_by) for r in s.scalars(sa.select(DisposalListing))),
                              key=repr),
            "states": sorted((code[r.id], r.state) for r in s.scalars(sa.select(RecordFile))),
        }


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value


def _rebuild(o: Open, target: Catalog, location: str = "replica2") -> RebuildReport:
    return rebuild_catalog(target, open_storage(o.settings.location(location)),
                           archive_code=ARCHIVE)


def test_cases_under_way_come_back_in_every_state(open_cases, target):
    o = open_cases
    original = case_rows(o.ctx.catalog)
    assert sorted(dict(c)["status"] for c in original["cases"]) == ["approved", "approved", "review"]
    assert len(original["items"]) == 4 and len(original["listing"]) == 4
    views = {c: cases.get(o.ctx, ADMIN, c) for c in (o.review, o.decided, o.started)}
    assert views[o.started]["decided_at"]

    report = _rebuild(o, target)

    assert report.problems == [] and report.complete, report.problems
    assert (report.open_cases, report.disposal_cases) == (3, 0)
    assert case_rows(target) == original
    rebuilt = ServiceContext(o.settings, target)
    for case_id, view in views.items():
        assert cases.get(rebuilt, ADMIN, case_id) == view
    with target.session() as s:
        started = s.get_one(DisposalCase, o.started)
        assert started.execution_started_at is not None and started.executed_by == "luu-tru"
    # the cases go on in the rebuilt catalog: the stopped execution finishes, the decided
    # case is executed within its window, the reviewed one takes opinions
    assert execution.execute(rebuilt, ARCHIVIST, o.started)["status"] == "executed"
    assert execution.execute(rebuilt, ARCHIVIST, o.decided)["status"] == "executed"
    assert cases.get(rebuilt, ADMIN, o.review)["council"][0]["opinion"] == "disagree"


def test_a_rebuild_run_again_adds_no_case_twice(open_cases, target):
    o = open_cases
    first = _rebuild(o, target)
    assert first.open_cases == 3
    from preservation.catalog import state as catalog_state
    with target.session() as s:
        catalog_state.mark_rebuild(s, complete=False, skipped=["-"], locations_unread=[],
                                   problems=1)
    again = _rebuild(o, target)
    assert again.open_cases == 0 and again.problems == []
    assert case_rows(target) == case_rows(o.ctx.catalog)


def test_a_change_a_location_cannot_store_is_not_made(open_cases):
    """The case's folder in replica2 replaced by a file: the opinion is refused (DES201, the
    archive's fault) and the catalog is as it was; once the folder is back, it is made."""
    o = open_cases
    before = case_rows(o.ctx.catalog)
    folder = o.folder("replica2", o.review)
    aside = folder.with_name("aside")
    folder.rename(aside)
    folder.write_bytes(b"not a folder")
    with pytest.raises(Unavailable) as refused:
        cases.record_opinion(o.ctx, MEMBER, o.review, "agree", "Đã xem lại")
    assert refused.value.code == "DES201" and refused.value.transient
    assert refused.value.issue.params["location"] == "replica2"
    assert "hồ sơ hủy" in refused.value.message("vi")
    assert case_rows(o.ctx.catalog) == before
    folder.unlink()
    aside.rename(folder)
    assert cases.record_opinion(o.ctx, MEMBER, o.review, "agree",
                                "Đã xem lại")["council"][0]["opinion"] == "agree"


def test_a_damaged_newest_state_gives_way_to_the_one_before(open_cases, target):
    o = open_cases
    original = case_rows(o.ctx.catalog)
    folder = o.folder("replica2", o.review)
    states = sorted(folder.glob("state-*.json"))
    assert len(states) == 3  # created, a hồ sơ added, an opinion
    newest = states[-1]
    newest.chmod(0o644)
    newest.write_bytes(newest.read_bytes().replace(b"disagree", b"agree\x20\x20\x20"))

    report = _rebuild(o, target)

    assert report.problems == [] and report.open_cases == 3
    rows = case_rows(target)
    assert rows["items"] == original["items"]  # the hồ sơ added is in the state before
    (member,) = [m for m in rows["council"] if ("case_id", o.review) in m]
    assert dict(member)["opinion"] is None  # the opinion was the newest state's


def test_a_case_whose_every_state_is_damaged_is_reported(open_cases, target):
    o = open_cases
    for path in o.folder("replica2", o.review).glob("state-*.json"):
        path.chmod(0o644)
        path.write_bytes(b"{}")
    shutil.rmtree(o.folder("replica1", o.review))  # not read: only replica2 is given

    report = _rebuild(o, target)

    assert [(p["code"], p["severity"]) for p in report.problems] == [("RBD201", "error")]
    assert report.problems[0]["path"].startswith(f"{ARCHIVE}/_disposal/{o.review}/state-")
    assert report.open_cases == 2 and report.complete
    with target.session() as s:
        assert set(s.scalars(sa.select(DisposalCase.id))) == {o.decided, o.started}
