"""The catalog rebuilt from one location brings back what the archive destroyed and what it
transferred: the executed destruction case with its council and decision, a tombstone and a
destroyed hồ sơ for each record, the deletion events, the transferred hồ sơ and their transfer;
and the reports that read them (``ho_so_huy``, the disposal scan, the transfer due list and the
hand-over record) answer the same on the rebuilt catalog as on the original.

The world is ``build_world(every_area=True)`` on two filesystem locations and one S3 location
(moto), its case decided and executed and its transfer completed through the services.
Rows are compared on natural keys (codes, case and transfer ids, event UUIDs), never on
surrogate ids or the time a row was written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization as ser

from access_api.services import transfers
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.disposal import appraisal, cases, execution, holds
from access_api.services.reports.spec import REPORTS, ReportParams
from access_api.services.transfer_export import agency_file_code
from preservation.catalog import state as catalog_state
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    CouncilMember,
    DisposalCase,
    DisposalCaseItem,
    Document,
    Fonds,
    LegalHold,
    Package,
    PremisEvent,
    RecordFile,
    Tombstone,
    Transfer,
    TransferItem,
)
from preservation.errors import KhosoError, ValidationFailed
from preservation.settings import StorageLocation
from storage import rebuild as rebuild_module
from storage.filesystem import FilesystemStorage
from storage.locations import open_storage
from storage.rebuild import RebuildReport, rebuild_catalog
from tests.support.pki import make_root, make_signer, minimal_pdf, sign_pdf
from tests.support.rebuild import ARCHIVE
from tests.support.reports import EXPIRED_CODE, ReportWorld, build_world

ADMIN = Identity("quan-tri-2", frozenset({UserRole.ADMIN}))
ARCHIVIST = Identity("luu-tru", frozenset({UserRole.ARCHIVIST}))
MEMBER = Identity("hoi-dong-1", frozenset({UserRole.ARCHIVIST}))
EXPIRED = f"{ARCHIVE}.{EXPIRED_CODE}"
TRANSFER_KEYS = ("title", "receiver", "planned_on", "status", "delivery", "remote_url",
                 "media_dir", "registered_by", "registered_at", "sent_at", "completed_by",
                 "completed_at")


@dataclasses.dataclass
class History:
    world: ReportWorld
    settings: Any
    case_id: str
    transfer_id: str
    offsite: StorageLocation

    def storage(self, name: str) -> Any:
        return open_storage(self.settings.location(name))

    def case_key(self) -> str:
        return f"{ARCHIVE}/_disposal/{self.case_id}/case.json"


def _s3(s3_endpoint: str) -> StorageLocation:
    bucket = f"khoso-rbh-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket)
    return StorageLocation("offsite", f"s3://{bucket}",
                           {"endpoint": s3_endpoint, "region": "us-east-1"})


@pytest.fixture
def history(khoso, s3_endpoint, monkeypatch) -> History:
    """The case decided (signed decision, trusted root) and executed; the transfer exported to
    media, its receipt recorded and completed."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    offsite = _s3(s3_endpoint)
    khoso.settings = dataclasses.replace(khoso.settings, storage_locations=(
        *khoso.settings.storage_locations, offsite))
    world = build_world(khoso, every_area=True)
    ctx = world.ctx
    ca, ca_key = make_root("Khoso Test Root")
    trust = Path(khoso.settings.trust_dir)
    trust.mkdir(parents=True, exist_ok=True)
    (trust / "root.pem").write_bytes(ca.public_bytes(ser.Encoding.PEM))
    cert, key = make_signer("Giám đốc Sở Nội vụ", ca, ca_key)
    first = holds.place(ctx, ADMIN, world.arc_file_code, "Thanh tra năm 2026")
    holds.lift(ctx, ADMIN, first.id, "Kết thúc thanh tra")
    holds.place(ctx, ADMIN, world.arc_file_code, "Tranh chấp đất đai")
    cases.record_opinion(ctx, MEMBER, world.case_id, "agree", "Đồng ý hủy")
    cases.decide(ctx, ADMIN, world.case_id, data=sign_pdf(minimal_pdf("Quyet dinh"), cert, key, ca),
                 number="12/QĐ-SNV", date=dt.date(2026, 12, 7))
    executed = execution.execute(ctx, ARCHIVIST, world.case_id)
    assert executed["status"] == "executed"

    transfers.export_media(ctx, ADMIN, world.transfer_id)
    with khoso.catalog.session() as s:
        item = s.scalars(sa.select(TransferItem)).one()
        receipt = {"job": str(uuid.uuid4()), "objid": "AIP.TTLTLS.X",
                   "arcFileCode": "TTLTLS." + agency_file_code(item.arc_file_code, ARCHIVE),
                   "files": list(item.sent or [])}
    assert transfers.record_receipt(ctx, ADMIN, world.transfer_id, receipt).status == "passed"
    assert transfers.complete(ctx, ADMIN, world.transfer_id).status == "completed"
    return History(world, khoso.settings, world.case_id, world.transfer_id, offsite)


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value


def _row(obj: Any, leave: tuple[str, ...] = ()) -> tuple[Any, ...]:
    return tuple((c.name, _utc(getattr(obj, c.name))) for c in obj.__table__.columns
                 if c.name not in ("id", "updated_at", *leave))


def _sorted(rows: Any) -> list[Any]:
    return sorted(rows, key=repr)


def history_rows(catalog: Catalog) -> dict[str, Any]:
    """The destruction and transfer history of a catalog, foreign keys by natural key."""
    with catalog.session() as s:
        code = {r.id: r.arc_file_code or r.file_code for r in s.scalars(sa.select(RecordFile))}
        fonds = {i: c for i, c in s.execute(sa.select(Fonds.id, Fonds.fond_code))}
        destroyed = list(s.scalars(sa.select(RecordFile).where(
            RecordFile.state == "destroyed", RecordFile.arc_file_code.is_not(None))))
        packages = {p.id: (p.objid, p.version) for p in s.scalars(sa.select(Package))}
        receipt = {"receipt"}
        return {
            "cases": _sorted(_row(c) for c in s.scalars(sa.select(DisposalCase))),
            "council": _sorted(_row(m, ("case_id",)) + (m.case_id,)
                              for m in s.scalars(sa.select(CouncilMember))),
            "items": _sorted((i.case_id, code[i.record_file_id], i.added_by, _utc(i.added_at))
                            for i in s.scalars(sa.select(DisposalCaseItem))),
            "tombstones": _sorted(_row(t, ("record_file_id",)) + (code[t.record_file_id],)
                                 for t in s.scalars(sa.select(Tombstone))),
            "destroyed": _sorted(_row(r, ("fonds_id",)) + (fonds[r.fonds_id],)
                                for r in destroyed),
            "documents": _sorted((code[d.record_file_id], d.arc_doc_code, d.doc_code, d.doc_id,
                                 d.kind, packages.get(d.package_id or 0))
                                for d in s.scalars(sa.select(Document).where(
                                    Document.record_file_id.in_([r.id for r in destroyed])))),
            "deleted_packages": _sorted(_row(p, ("record_file_id", "fonds_id", "agency_id",
                                                "previous_id")) + (code[p.record_file_id or 0],)
                                       for p in s.scalars(sa.select(Package).where(
                                           Package.status == "deleted"))),
            "events": _sorted((e.event_uuid, e.event_type, _utc(e.event_datetime), e.detail,
                              e.outcome, e.outcome_detail, json.dumps(e.outcome_data,
                                                                      sort_keys=True),
                              e.object_identifier, packages.get(e.package_id or 0),
                              tuple(sorted((a.identifier_value, a.agent_type) for a in e.agents)))
                             for e in s.scalars(sa.select(PremisEvent).where(
                                 PremisEvent.event_type.in_(("deletion", "transfer"))))),
            "states": _sorted((code[r.id], r.state) for r in s.scalars(sa.select(RecordFile).where(
                RecordFile.state.in_(("destroyed", "transferred")))) if r.id in {
                p.record_file_id for p in s.scalars(sa.select(Package))}),
            "transfers": _sorted((t.id, fonds[t.fonds_id]) + tuple(_utc(getattr(t, k))
                                                                  for k in TRANSFER_KEYS)
                                for t in s.scalars(sa.select(Transfer))),
            "transfer_items": _sorted(
                _row(i, ("transfer_id", "record_file_id", *receipt)) + (
                    i.transfer_id, code[i.record_file_id],
                    json.dumps({k: v for k, v in (i.receipt or {}).items() if k != "files"},
                               sort_keys=True))
                for i in s.scalars(sa.select(TransferItem))),
            "holds": _sorted((code[h.record_file_id], h.reason, h.placed_by, h.lifted_by,
                              h.lift_reason, h.lifted_at is None)
                             for h in s.scalars(sa.select(LegalHold))),
        }


def hold_times(catalog: Catalog) -> list[tuple[Any, Any]]:
    with catalog.session() as s:
        return [(_utc(h.placed_at), _utc(h.lifted_at))
                for h in s.scalars(sa.select(LegalHold).order_by(LegalHold.placed_at))]


def report_answers(settings: Any, catalog: Catalog, h: History) -> dict[str, Any]:
    """What the reports reading the history say (the disposal scan is run, and lists nothing
    destroyed or transferred)."""
    ctx = ServiceContext(settings, catalog)
    scanned = appraisal.scan(ctx, ADMIN, today=dt.date(2026, 12, 7))
    huy = REPORTS["ho_so_huy"]
    giao_nhan = REPORTS["bien_ban_giao_nhan"]
    due = transfers.due(ctx, ADMIN, on=dt.date(2026, 12, 7), within_days=100_000).to_dict()
    try:
        cases.create(ctx, ARCHIVIST, title="t", explanation="e", records=[EXPIRED],
                     council=["hoi-dong-1"])
        again = "accepted"
    except ValidationFailed as exc:  # a destroyed hồ sơ is refused by name
        # (DES022 too on the rebuilt one: accounts are never in storage)
        again = [i.code for i in exc.report.errors if i.path == "records/0"]
    return {
        "scan": sorted(scanned.codes),
        "danh_muc": [list(r) for r in REPORTS["danh_muc_het_gia_tri"].rows(ctx, ReportParams())],
        "ho_so_huy": [list(r) for r in huy.rows(ctx, ReportParams(hoso=h.case_id))],
        "ho_so_huy_preamble": huy.preamble(ctx, ReportParams(hoso=h.case_id)),
        "giao_nhan": [list(r) for r in giao_nhan.rows(ctx, ReportParams(hoso=h.transfer_id))],
        "giao_nhan_preamble": giao_nhan.preamble(ctx, ReportParams(hoso=h.transfer_id)),
        "due_records": [r for r in due["records"]],
        "due_plan": due["plan"],
        "case_again": again,
    }


def _rebuild(h: History, target: Catalog, location: str = "offsite") -> RebuildReport:
    return rebuild_catalog(target, h.storage(location), archive_code=ARCHIVE)


def test_destruction_and_transfer_history_comes_back_from_one_location(history, target):
    original = history_rows(history.world.ctx.catalog)
    assert len(original["cases"]) == 1 and len(original["tombstones"]) == 1
    assert original["states"] == sorted([(EXPIRED, "destroyed"),
                                         (history.world.arc_file_code, "transferred")])
    assert len(original["transfers"]) == 1 and len(original["transfer_items"]) == 1
    assert {e[1] for e in original["events"]} == {"deletion", "transfer"}

    report = _rebuild(history, target)

    assert report.problems == [] and report.complete, [p.get("params") for p in report.problems]
    assert (report.disposal_cases, report.tombstones, report.transferred,
            report.transfers, report.holds) == (1, 1, 1, 1, 2)
    assert history_rows(target) == original
    assert len(original["holds"]) == 2 and sum(h[-1] for h in original["holds"]) == 1
    for (placed, lifted), (was_placed, was_lifted) in zip(
            hold_times(target), hold_times(history.world.ctx.catalog), strict=True):
        # the audit entries' times: written in the same transaction as the hold
        assert abs(placed - was_placed) < dt.timedelta(seconds=1)
        assert (lifted is None) == (was_lifted is None)
        assert lifted is None or abs(lifted - was_lifted) < dt.timedelta(seconds=1)
    before = report_answers(history.settings, history.world.ctx.catalog, history)
    after = report_answers(history.settings, target, history)
    assert after == before
    assert after["ho_so_huy"][0][1] == EXPIRED and after["scan"] == []
    assert after["case_again"] == ["DES006"]
    assert after["due_plan"]["transferred_within_target"] == 1
    assert history.world.arc_file_code not in {r["arcFileCode"] for r in after["due_records"]}
    with pytest.raises(KhosoError) as refused:  # a complete catalog is never rebuilt into
        _rebuild(history, target)
    assert refused.value.code == "RBD012"


def _mark_incomplete(catalog: Catalog) -> None:
    with catalog.session() as s:
        catalog_state.mark_rebuild(s, complete=False, skipped=["-"], locations_unread=[],
                                   problems=1)


def test_a_rebuild_run_again_adds_only_the_missing_history(history, target, monkeypatch):
    """A run stopped before the history (the catalog left incomplete) gets it on the next run;
    a third run adds nothing."""
    original = history_rows(history.world.ctx.catalog)
    with monkeypatch.context() as m:
        m.setattr(rebuild_module._Rebuild, "restore_history", lambda self: None)
        first = _rebuild(history, target, "replica2")
    assert first.disposal_cases == 0
    assert history_rows(target)["cases"] == []
    _mark_incomplete(target)

    second = _rebuild(history, target, "replica2")

    assert (second.aips_rebuilt, second.disposal_cases, second.transfers, second.holds) == (
        0, 1, 1, 2)
    assert second.transferred == 1 and second.problems == []
    assert history_rows(target) == original
    _mark_incomplete(target)
    third = _rebuild(history, target, "replica2")
    assert (third.disposal_cases, third.tombstones, third.transferred, third.transfers,
            third.holds) == (0, 0, 0, 0, 0)
    assert history_rows(target) == original


def _format_one(doc: dict[str, Any]) -> dict[str, Any]:
    """case.json as executions before format 2 wrote it."""
    old = {k: v for k, v in doc.items() if k not in ("format", "rows")}
    old["list"] = [{k: v for k, v in e.items() if k not in ("added_by", "added_at")}
                   for e in doc["list"]]
    old["events"] = [{k: e[k] for k in ("event_uuid", "type", "datetime", "objid", "version",
                                        "detail", "outcome", "agent")} for e in doc["events"]]
    return old


def _rewrite(h: History, location: str, doc: Any) -> None:
    path = h.settings.location(location).path / h.case_key()
    path.chmod(0o644)
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())


def _case_json(h: History) -> dict[str, Any]:
    with h.storage("replica1").open(h.case_key()) as f:
        doc: dict[str, Any] = json.loads(f.read())
    return doc


def test_a_case_json_of_the_first_format_restores_what_it_carries(history, target):
    original = history_rows(history.world.ctx.catalog)
    doc = _case_json(history)
    assert doc["format"] == 2 and len(doc["rows"]) == 1
    _rewrite(history, "replica1", _format_one(doc))

    report = _rebuild(history, target, "replica1")

    assert report.problems == [] and (report.disposal_cases, report.tombstones) == (1, 1)
    rebuilt = history_rows(target)
    for table in ("council", "tombstones", "transfers", "transfer_items", "states"):
        assert rebuilt[table] == original[table], table
    assert rebuilt["cases"] == original["cases"]
    assert [i[:2] for i in rebuilt["items"]] == [i[:2] for i in original["items"]]
    (rf,) = rebuilt["destroyed"]
    row, was_row = dict(rf[:-1]), dict(original["destroyed"][0][:-1])
    for name in ("file_code", "arc_file_code", "title", "maintenance", "retention_years",
                 "start_date", "end_date", "total_doc"):
        assert row[name] == was_row[name], name
    assert row["mode"] == "" and row["state"] == "destroyed" and rf[-1] == original[
        "destroyed"][0][-1]
    assert [d[1:4] for d in rebuilt["documents"]] == [d[1:4] for d in original["documents"]]
    # the deletion events, but for the executing program among the agents
    deletions = {e[0]: e for e in original["events"] if e[1] == "deletion"}
    for e in (e for e in rebuilt["events"] if e[1] == "deletion"):
        assert e[:9] == deletions[e[0]][:9]
        assert e[9] == (("luu-tru", "person"),)
    with target.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package)
                        .where(Package.status == "deleted")) == 1
    assert report_answers(history.settings, target, history)["ho_so_huy"] == \
        report_answers(history.settings, history.world.ctx.catalog, history)["ho_so_huy"]


def _hostile(h: History) -> dict[str, tuple[Any, str]]:
    """Each bad case.json with the code it must give."""
    doc = _case_json(h)

    def changed(path: list[Any], value: Any, *more: tuple[list[Any], Any]) -> dict[str, Any]:
        copy = json.loads(json.dumps(doc))
        for where, what in ((path, value), *more):
            node = copy
            for part in where[:-1]:
                node = node[part]
            node[where[-1]] = what
        return copy

    other, live = str(uuid.uuid4()), h.world.arc_file_code
    return {
        "not-json": (b"{not json", "RBD050"),
        "not-utf8": (b"\xff\xfe{}", "RBD050"),
        "a-list": ([1, 2], "RBD050"),
        "files-not-a-list": (changed(["tombstones", 0, "files"], "x"), "RBD050"),
        "size-a-string": (changed(["tombstones", 0, "files", 0, "size"], "12"), "RBD050"),
        "retention-a-bool": (changed(["tombstones", 0, "retention_years"], True), "RBD050"),
        "fonds-traversal": (changed(["tombstones", 0, "fond_code"], "../../etc"), "RBD050"),
        "code-traversal": (changed(["tombstones", 0, "code"], "../../x"), "RBD050"),
        "decision-key-elsewhere": (changed(["decisions", 0, "key"],
                                           f"{ARCHIVE}/_disposal/../../secret.pdf"), "RBD050"),
        "another-case-id": (changed(["case", "id"], other), "RBD050"),
        "another-archive": (changed(["archive"], "KHAC"), "RBD050"),
        "bad-opinion": (changed(["council", 0, "opinion"], "maybe"), "RBD050"),
        "row-codes-differ": (changed(["rows", 0, "record_file", "file_code"], "X"), "RBD050"),
        "no-decision": (changed(["decisions"], []), "RBD050"),
        "nul-in-title": (changed(["case", "title"], "a\0b"), "RBD050"),
        # checked whole, refused only while writing (a unique code twice): rolled back
        "document-twice": (changed(["rows", 0, "documents"], doc["rows"][0]["documents"] * 2),
                           "RBD050"),
        # a hồ sơ whose AIP is still in storage: the file and the holdings disagree
        "names-a-live-aip": (changed(["tombstones", 0, "code"], live, *(
            (path, live) for path in (["tombstones", 0, "file_code"],
                                      ["rows", 0, "record_file", "file_code"],
                                      ["rows", 0, "record_file", "arc_file_code"]))), "RBD052"),
        "names-a-live-objid": (changed(["tombstones", 0, "objid"], h.world.objid), "RBD052"),
    }


def test_a_hostile_case_json_restores_nothing_of_its_case_and_the_rest_goes_on(history,
                                                                               tmp_path):
    original = history_rows(history.world.ctx.catalog)
    storage = FilesystemStorage(history.settings.location("replica1").path, name="replica1")
    for name, (doc, code) in _hostile(history).items():
        _rewrite(history, "replica1", doc)
        target = Catalog(f"sqlite:///{tmp_path / (name + '.sqlite')}")
        target.upgrade()
        try:
            report = rebuild_catalog(target, storage, archive_code=ARCHIVE)
            rebuilt = history_rows(target)
            with target.session() as s:
                counts = [s.scalar(sa.select(sa.func.count()).select_from(m))
                          for m in (DisposalCase, Tombstone, CouncilMember, DisposalCaseItem)]
                deleted = s.scalar(sa.select(sa.func.count()).select_from(Package)
                                   .where(Package.status == "deleted"))
                stray = s.scalar(sa.select(sa.func.count()).select_from(PremisEvent)
                                 .where(PremisEvent.event_type == "deletion"))
        finally:
            target.dispose()
        assert [(p["code"], p["path"]) for p in report.problems] == [
            (code, history.case_key())], name
        assert report.problems[0]["severity"] == "error"
        assert counts == [0, 0, 0, 0] and (deleted, stray) == (0, 0), name  # nothing half-kept
        assert EXPIRED not in dict(rebuilt["states"]), name
        # the rest of the rebuild went on: the packages and the transfer are back
        assert report.aips_rebuilt == 1 and report.complete, name
        assert rebuilt["transfers"] == original["transfers"], name
        assert rebuilt["transfer_items"] == original["transfer_items"], name


def test_a_decision_without_case_json_is_a_case_never_executed(history, target):
    """Neither case.json nor a state file (a case decided before states were kept)."""
    folder = history.settings.location("replica1").path / history.case_key().rsplit("/", 1)[0]
    for path in [folder / "case.json", *folder.glob("state-*.json")]:
        path.chmod(0o644)
        path.unlink()
    key = history.case_key().rsplit("/", 1)[0]

    report = rebuild_catalog(target, history.storage("replica1"), archive_code=ARCHIVE)

    assert [(p["code"], p["path"], p["severity"]) for p in report.problems] == [
        ("RBD051", key, "warning")]
    assert report.disposal_cases == 0 and report.open_cases == 0 and report.complete


def test_an_executed_case_without_case_json_is_not_a_case_under_way(history, target):
    """Its state files say "execution started", the audit log says executed: the file is
    lost, and the case is not brought back as one that could be executed again."""
    path = history.settings.location("replica1").path / history.case_key()
    path.chmod(0o644)
    path.unlink()

    report = rebuild_catalog(target, history.storage("replica1"), archive_code=ARCHIVE)

    assert [(p["code"], p["path"], p["severity"]) for p in report.problems] == [
        ("RBD050", history.case_key(), "error")]
    assert report.disposal_cases == 0 and report.open_cases == 0 and report.complete
    assert history_rows(target)["cases"] == []


def test_khoso_catalog_rebuild_restores_the_history(history, target):
    """Through the command an operator runs (its service: every configured location)."""
    from click.testing import CliRunner

    from access_api.cli import main

    data = history.settings.data_dir
    env = {"KHOSO_DATA_DIR": str(data), "KHOSO_DATABASE_URL": target.url,
           "KHOSO_CLAMD": history.settings.clamd, "KHOSO_CLAMD_MANAGED": "false",
           "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{data / 'r1'},replica2=file://{data / 'r2'}",
           "KHOSO_ARCHIVE_CODE": ARCHIVE}
    original = history_rows(history.world.ctx.catalog)

    result = CliRunner().invoke(main, ["--lang", "en", "catalog", "rebuild", "--from", "replica2",
                                       "--json"], env=env, catch_exceptions=False)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["disposal_cases"], report["tombstones"], report["transferred"],
            report["transfers"], report["problems"]) == (1, 1, 1, 1, [])
    assert history_rows(target) == original


def _edit_transfer_event(h: History, location: str, edit: Any) -> None:
    """Change the ``transfer`` event in the location's sidecar batches with ``edit(data)``."""
    root = h.settings.location(location).path
    for batch in root.glob(f"{ARCHIVE}/*/*/_events/*"):
        lines = batch.read_text(encoding="utf-8").splitlines()
        if not any('"transfer"' in line for line in lines):
            continue
        out = []
        for line in lines:
            event = json.loads(line) if line.strip() else None
            if event and event["event_type"] == "transfer":
                edit(event["outcome_data"])
                line = json.dumps(event, ensure_ascii=False)
            out.append(line)
        batch.chmod(0o644)
        batch.write_text("\n".join(out) + "\n", encoding="utf-8")
        return
    raise AssertionError("no transfer event in " + location)


@pytest.mark.parametrize(("edit", "code", "severity"), [
    (lambda d: d["record"].update(planned_on="never"), "RBD054", "error"),
    (lambda d: d["item"].update(sent="not a list of files", sent_at=[1]), "RBD054", "error"),
    (lambda d: (d.pop("record"), d.pop("item")), "RBD053", "warning"),  # an older completion
], ids=["bad-date", "wrong-types", "older-event"])
def test_a_transfer_event_without_a_usable_record_still_marks_the_hoso(history, tmp_path, edit,
                                                                       code, severity):
    _edit_transfer_event(history, "replica1", edit)
    target = Catalog(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    target.upgrade()
    try:
        report = rebuild_catalog(target, history.storage("replica1"), archive_code=ARCHIVE)
        rebuilt = history_rows(target)
    finally:
        target.dispose()
    assert [(p["code"], p["path"], p["severity"]) for p in report.problems] == [
        (code, history.transfer_id, severity)]
    assert (report.transferred, report.transfers, report.disposal_cases) == (1, 0, 1)
    assert rebuilt["transfers"] == [] and rebuilt["transfer_items"] == []
    assert (history.world.arc_file_code, "transferred") in rebuilt["states"]


def test_a_hold_on_a_hoso_not_rebuilt_is_reported(history, tmp_path):
    root = history.settings.location("replica1").path
    (mets,) = root.glob(f"{ARCHIVE}/*/*/v1/data/METS.xml")
    mets.chmod(0o644)
    mets.unlink()  # the held hồ sơ's only AIP: no good copy in the one location read
    target = Catalog(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
    target.upgrade()
    try:
        report = rebuild_catalog(target, history.storage("replica1"), archive_code=ARCHIVE)
        rebuilt = history_rows(target)
    finally:
        target.dispose()
    problems = {p["code"]: p for p in report.problems}
    assert set(problems) == {"RBD005", "RBD038", "RBD055"}
    assert problems["RBD055"]["params"] == {"count": "2", "first": history.world.arc_file_code}
    assert rebuilt["holds"] == [] and report.holds == 0
    assert report.disposal_cases == 1  # the rest of the history is there
