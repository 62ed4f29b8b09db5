"""Fixity audit and repair against real backends (two filesystem locations, S3 on moto), both DBs."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from preservation.catalog import audit as audit_log
from preservation.catalog.models import AuditEntry, Package, PremisEvent
from preservation.errors import KhosoError
from storage.audit import audit_copy, run_audit
from storage.filesystem import FilesystemStorage
from storage.protocol import FixityOutcome
from tests.support.audit import Aip, copies, make_aip, sha

PDF = "data/representations/rep1/data/van-ban.pdf"


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def s3_rewrite(raw_s3, storage, key: str, change) -> None:
    """Replace an S3 object's bytes behind the backend's back, keeping its metadata."""
    head = raw_s3.head_object(Bucket=storage.bucket, Key=key)
    data = raw_s3.get_object(Bucket=storage.bucket, Key=key)["Body"].read()
    raw_s3.put_object(Bucket=storage.bucket, Key=key, Body=change(data), Metadata=head["Metadata"])


def flipped(data: bytes) -> bytes:
    buf = bytearray(data)
    buf[len(buf) // 2] ^= 0x01
    return bytes(buf)


def events(catalog, event_type: str) -> list[PremisEvent]:
    with catalog.session() as s:
        return list(s.scalars(sa.select(PremisEvent).where(PremisEvent.event_type == event_type)
                              .order_by(PremisEvent.id)))


def actions(catalog) -> list[str]:
    with catalog.session() as s:
        return list(s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def all_verify(aip: Aip, storages) -> bool:
    return all(st.verify(aip.key(p), sha(d)).ok for st in storages.values() for p, d in aip.files.items())


def damage_three_ways(aip: Aip, storages, raw_s3) -> None:
    """One byte flipped in fs1, one object deleted in fs2, one object truncated in S3."""
    flip_byte(storages["fs1"].root / aip.key(PDF))
    storages["fs2"].delete(aip.key("data/METS.xml"))
    s3_rewrite(raw_s3, storages["s3"], aip.key("manifest-sha256.txt"), lambda d: d[: len(d) // 2])


def test_audit_finds_and_repairs_a_flipped_byte_a_deleted_and_a_truncated_object(catalog, storages, raw_s3):
    aip = make_aip(catalog, storages, "KHOSO.H49.2001.160")
    healthy = make_aip(catalog, storages, "KHOSO.H49.2001.161")
    damage_three_ways(aip, storages, raw_s3)
    assert not all_verify(aip, storages)

    report = run_audit(catalog, storages, due_only=False, repair=True, actor="can-bo-bao-quan")

    assert (report.copies_checked, report.ok, report.bad, report.repaired) == (6, 3, 3, 3)
    assert report.critical == [] and report.unrepaired == 0 and report.not_checked == 0
    assert report.bytes_read > 0 and report.mb_per_s > 0
    found = {(p["location"], p["result"]) for p in report.problems}
    assert found == {("fs1", "mismatch"), ("fs2", "missing"), ("s3", "mismatch")}
    codes = {p["location"]: [i["code"] for i in p["issues"]] for p in report.problems}
    assert codes == {"fs1": ["AUD001"], "fs2": ["AUD002"], "s3": ["AUD001"]}
    json.dumps(report.to_dict())
    assert all_verify(aip, storages) and all_verify(healthy, storages)

    for copy in copies(catalog, aip.package_id).values():
        assert copy.last_check_result == "ok"
    assert "[AUD006]" in copies(catalog, aip.package_id)["fs2"].last_check_detail
    checks = events(catalog, "fixity check")
    assert len(checks) == 6
    assert sorted(e.outcome for e in checks) == ["failure"] * 3 + ["success"] * 3
    bad = [e for e in checks if e.outcome == "failure"]
    assert {e.outcome_detail.split("\n")[1] for e in bad} == {
        f"mismatch: {PDF}", "missing: data/METS.xml", "mismatch: manifest-sha256.txt"}
    repairs = events(catalog, "replication")
    assert len(repairs) == 3 and {e.outcome for e in repairs} == {"success"}
    assert {e.object_identifier for e in repairs} == {PDF, "data/METS.xml", "manifest-sha256.txt"}
    mets = next(e for e in repairs if e.object_identifier == "data/METS.xml")
    assert "to=fs2" in mets.detail and f"key={aip.key('data/METS.xml')}" in mets.detail
    assert "from=fs" in mets.detail or "from=s3" in mets.detail
    assert actions(catalog).count("fixity.repair.repaired") == 3
    assert actions(catalog)[-1] == "fixity.audit"
    with catalog.session() as s:
        assert audit_log.verify_chain(s) == []
        assert not s.get(Package, aip.package_id).critical


def test_audit_copy_records_in_the_callers_transaction(catalog, fs_storages):
    aip = make_aip(catalog, fs_storages, "KHOSO.H49.2001.170")
    fs1 = fs_storages["fs1"]
    flip_byte(fs1.root / aip.key(PDF))
    fs1.delete(aip.key("bagit.txt"))
    with catalog.session() as s:
        copy = s.get(type(copies(catalog, aip.package_id)["fs1"]), copies(catalog, aip.package_id)["fs1"].id)
        result = audit_copy(s, copy, fs1, actor="tester")
        assert result.result == "mismatch"  # a mismatch outranks a missing object
        assert {r.outcome for r in result.bad} == {FixityOutcome.MISMATCH, FixityOutcome.MISSING}
        assert copy.last_check_result == "mismatch"
        s.rollback()  # the caller decides: nothing of the check is kept
    assert copies(catalog, aip.package_id)["fs1"].last_check_result == "ok"
    assert events(catalog, "fixity check") == []

    fs2 = fs_storages["fs2"]
    fs2.delete(aip.key("bagit.txt"))
    with catalog.session() as s:
        copy = s.get(type(copies(catalog, aip.package_id)["fs2"]), copies(catalog, aip.package_id)["fs2"].id)
        assert audit_copy(s, copy, fs2, actor="tester").result == "missing"
    (event,) = events(catalog, "fixity check")
    assert event.outcome == "failure" and event.stored_copy_id == copies(catalog, aip.package_id)["fs2"].id
    assert event.outcome_detail.startswith("objects=7; ok=6; mismatch=0; missing=1; unreadable=0")


def test_no_good_copy_left_flags_the_package_critical(catalog, storages, raw_s3):
    aip = make_aip(catalog, storages, "KHOSO.H49.2001.180")
    flip_byte(storages["fs1"].root / aip.key(PDF))
    flip_byte(storages["fs2"].root / aip.key(PDF))
    s3_rewrite(raw_s3, storages["s3"], aip.key(PDF), flipped)

    report = run_audit(catalog, storages, due_only=False, repair=True, actor="tester")

    assert report.bad == 3 and report.repaired == 0 and report.critical == [aip.objid]
    with catalog.session() as s:
        assert s.get(Package, aip.package_id).critical
    assert {c.last_check_result for c in copies(catalog, aip.package_id).values()} == {"mismatch"}
    assert "[AUD007]" in copies(catalog, aip.package_id)["fs1"].last_check_detail
    failed = events(catalog, "replication")
    assert len(failed) == 3 and {e.outcome for e in failed} == {"failure"}
    assert all("status=lost" in e.detail and "from=none" in e.detail for e in failed)
    assert actions(catalog).count("package.critical") == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_location_that_is_down_is_not_checked_never_a_mismatch(catalog, storages, tmp_path):
    from storage.s3 import S3Storage

    gone = FilesystemStorage(tmp_path / "gone", name="gone", create_root=True)
    written = {"fs1": storages["fs1"], "gone": gone, "s3": storages["s3"]}
    first = make_aip(catalog, written, "KHOSO.H49.2001.190")
    make_aip(catalog, written, "KHOSO.H49.2001.191")
    flip_byte(storages["fs1"].root / first.key(PDF))
    shutil.rmtree(tmp_path / "gone")  # the disk is unmounted
    s3_down = S3Storage(storages["s3"].bucket, endpoint_url=f"http://127.0.0.1:{closed_port()}",
                        region="us-east-1", name="s3", max_attempts=1)
    audited = {"fs1": storages["fs1"], "gone": gone, "s3": s3_down}

    report = run_audit(catalog, audited, due_only=False, repair=True, actor="tester")

    assert set(report.locations_down) == {"gone", "s3"}
    # a copy or two per location already being read when the failure shows; the rest skipped
    assert report.not_checked >= 2 and report.not_checked + report.skipped == 4
    assert report.bad == 1 and report.repaired == 0 and report.unrepaired == 1
    assert report.critical == []  # the other copies could not be read: not known to be lost
    with catalog.session() as s:
        assert not s.get(Package, first.package_id).critical
    results = [c.last_check_result for pid in (first.package_id, first.package_id + 1)
               for c in copies(catalog, pid).values()]
    assert results.count("mismatch") == 1 and results.count("not_checked") == report.not_checked
    checks = events(catalog, "fixity check")
    assert sorted(e.outcome for e in checks) == sorted(
        ["failure", "success"] + ["not_performed"] * report.not_checked)
    assert all("mismatch=0" in e.outcome_detail for e in checks if e.outcome == "not_performed")
    (failed,) = events(catalog, "replication")
    assert failed.outcome == "failure" and "status=failed" in failed.detail

    with catalog.session() as s:
        copy = s.get(type(copies(catalog, first.package_id)["gone"]), copies(catalog, first.package_id)["gone"].id)
        assert audit_copy(s, copy, gone, actor="tester").result == "not_checked"
        assert copy.last_check_detail.startswith("[AUD003]")


def test_run_audit_refuses_bad_parameters(catalog, fs_storages):
    with pytest.raises(KhosoError) as err:
        run_audit(catalog, fs_storages, batch_size=0)
    assert err.value.code == "AUD010"
    with pytest.raises(KhosoError) as err:
        run_audit(catalog, fs_storages, period_days=4 * 365)
    assert err.value.code == "AUD010"
    with pytest.raises(KhosoError) as err:
        run_audit(catalog, fs_storages, workers=0)
    assert "workers" in err.value.message("en")


def test_a_copy_the_catalog_lists_no_objects_for_is_not_checked(catalog, fs_storages):
    from preservation.catalog.models import Bitstream

    aip = make_aip(catalog, {"fs1": fs_storages["fs1"]}, "KHOSO.H49.2001.195")
    with catalog.session() as s:
        s.execute(sa.delete(Bitstream).where(Bitstream.package_id == aip.package_id))
    report = run_audit(catalog, fs_storages, due_only=False)
    assert report.not_checked == 1 and report.problems[0]["issues"][0]["code"] == "AUD012"


def test_copies_in_an_unconfigured_location_are_reported(catalog, fs_storages):
    make_aip(catalog, fs_storages, "KHOSO.H49.2001.196")
    report = run_audit(catalog, {"fs1": fs_storages["fs1"]}, due_only=False)
    assert report.copies_checked == 1
    assert report.problems[0]["issues"][0]["code"] == "AUD009"
    assert report.problems[0]["location"] == "fs2"


def test_progress_is_reported(catalog, fs_storages):
    make_aip(catalog, fs_storages, "KHOSO.H49.2001.197")
    seen: list[tuple[str, int, int]] = []
    run_audit(catalog, fs_storages, due_only=False, limit=5,
              progress=lambda *a: seen.append(a), now=dt.datetime.now(dt.UTC))
    assert seen == [("audit", 1, 5), ("audit", 2, 5)]


def test_an_object_or_folder_replaced_by_a_symlink_is_damaged_and_repaired(catalog, fs_storages,
                                                                           tmp_path):
    """A link where an object (or one of its folders) was is a damaged copy, even when what it
    points to has the right bytes: the audit says mismatch, not "not checked" for ever, and
    repair replaces the link itself by a verified copy, never writing through it."""
    aip = make_aip(catalog, fs_storages, "KHOSO.H49.2001.190")
    fs1 = fs_storages["fs1"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "van-ban.pdf").write_bytes(aip.files[PDF])
    linked = fs1.root / aip.key(PDF)
    linked.unlink()
    linked.symlink_to(outside / "van-ban.pdf")
    premis = "data/metadata/preservation/PREMIS.xml"
    folder = fs1.root / aip.key("data/metadata")
    shutil.move(folder, outside / "metadata")
    folder.symlink_to(outside / "metadata")
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}

    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester")

    (problem,) = report.problems
    assert (problem["location"], problem["result"]) == ("fs1", "mismatch")
    assert sorted(i["path"] for i in problem["issues"]) == [premis, PDF]
    assert {i["code"] for i in problem["issues"]} == {"AUD001"}
    assert (report.bad, report.repaired, report.unrepaired, report.not_checked) == (1, 2, 0, 0)
    assert not linked.is_symlink() and linked.read_bytes() == aip.files[PDF]
    assert not folder.is_symlink() and folder.is_dir()
    assert (folder / "preservation" / "PREMIS.xml").read_bytes() == aip.files[premis]
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    assert all_verify(aip, fs_storages)
    assert copies(catalog, aip.package_id)["fs1"].last_check_result == "ok"
    again = run_audit(catalog, fs_storages, due_only=False, actor="tester")
    assert (again.ok, again.bad, again.not_checked) == (2, 0, 0)


def _history(storage, aip: Aip) -> dict[str, bytes]:
    entity = aip.prefix.rsplit("/", 1)[0]
    return {k: storage.open(k).read() for k in storage.list(f"{entity}/_events/")}


def test_repair_restores_the_event_history_and_foreign_files_are_reported(catalog, fs_storages):
    """The ``_events/*.jsonl`` history next to the AIPs is audited and repaired like the AIP
    (a batch deleted in one location, a batch damaged in the other); a file inside the AIP
    folder that its manifests do not list is reported (AUD042), never deleted."""
    from access_api.services import ServiceContext
    from access_api.services.audit import check_events
    from access_api.services.uow import run_operations
    from preservation.settings import load_settings

    aip = make_aip(catalog, fs_storages, "KHOSO.H49.2001.191")
    # each run's check events appended to the history, as the audit service does
    ctx = ServiceContext(load_settings({}), catalog, fs_storages)
    for _ in range(2):
        run_audit(catalog, fs_storages, due_only=False, actor="tester",
                  on_saved=lambda recorded: run_operations(ctx, check_events(recorded)))
    fs1, fs2 = fs_storages["fs1"], fs_storages["fs2"]
    history = _history(fs1, aip)
    assert len(history) == 2 and _history(fs2, aip) == history
    first, second = sorted(history)
    fs1.delete(first)
    flip_byte(fs2.root / second)
    foreign = fs1.root / aip.key("data/representations/rep1/data/them-vao.exe")
    foreign.write_bytes(b"MZ not from the agency")
    planted = fs2.root / aip.key("data/representations/rep1/data/lien-ket.pdf")
    planted.symlink_to(foreign)

    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester")

    assert (report.history_restored, report.history_unrestored) == (2, 0)
    assert report.foreign_files == 2 and foreign.read_bytes() == b"MZ not from the agency"
    assert planted.is_symlink()
    issues = [i for p in report.problems for i in p["issues"]]
    assert {(i["code"], i["path"]) for i in issues if i["code"] != "AUD004"} == {
        ("AUD042", "data/representations/rep1/data/them-vao.exe"),
        ("AUD042", "data/representations/rep1/data/lien-ket.pdf"),
        ("AUD043", first), ("AUD043", second)}
    assert {k: v for k, v in _history(fs1, aip).items() if k in history} == history
    assert {k: v for k, v in _history(fs2, aip).items() if k in history} == history
    assert "[AUD042]" in copies(catalog, aip.package_id)["fs1"].last_check_detail
    assert actions(catalog).count("fixity.history.restored") == 2

    fs2.delete(first)
    report = run_audit(catalog, fs_storages, due_only=False, actor="tester")  # no --repair
    assert (report.history_restored, report.history_unrestored) == (0, 1)
    assert first not in _history(fs2, aip)


def test_a_wrong_read_of_the_only_good_copy_is_not_a_lost_object(catalog, fs_storages,
                                                                  monkeypatch):
    """The only good copy's read returns wrong bytes once (a read fault; the copy is intact):
    the repair fails for this run and is retried, the object is not "lost" and the package
    not flagged critical. Before, one wrong read marked it lost for good."""
    aip = make_aip(catalog, fs_storages, "KHOSO.H49.2001.185")
    flip_byte(fs_storages["fs1"].root / aip.key(PDF))
    real_open = FilesystemStorage.open
    faults = {"left": 1}

    def open_once_wrong(self, key, **kw):
        stream = real_open(self, key, **kw)
        if self.name == "fs2" and key == aip.key(PDF) and faults["left"]:
            faults["left"] -= 1
            with stream:
                return io.BytesIO(flipped(stream.read()))
        return stream

    monkeypatch.setattr(FilesystemStorage, "open", open_once_wrong)
    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester")

    assert faults["left"] == 0 and report.bad == 1
    assert report.repaired == 0 and report.unrepaired == 1 and report.critical == []
    with catalog.session() as s:
        assert not s.get(Package, aip.package_id).critical
    (failed,) = events(catalog, "replication")
    assert "status=failed" in failed.detail and "status=lost" not in failed.detail
    assert "package.critical" not in actions(catalog)
    with catalog.session() as s:
        entry = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "fixity.repair.failed")).one()
        assert "fs2" in entry.detail["reason"] and "read fault" in entry.detail["reason"]
    assert copies(catalog, aip.package_id)["fs2"].last_check_result == "ok"

    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester")
    assert report.repaired == 1 and report.critical == []
    assert all_verify(aip, fs_storages)


def test_destruction_case_state_files_missing_or_rotted_in_one_location_are_restored(
        catalog, fs_storages):
    """A case not yet executed lives in storage as its state files alone: one deleted in fs1,
    another rotted in fs2, both found and restored from the other location's intact copy
    (the name carries the first 8 hex of its SHA-256), recorded as history repairs are."""
    from storage.disposal_state import state_key

    case = "3f2b8c1d-6a4e-4b7f-9c0d-1e2f3a4b5c6d"
    states = [json.dumps({"kind": "khoso-disposal-case-state", "seq": n}).encode()
              for n in (1, 2)]
    keys = [state_key("KHOSO", case, n, data) for n, data in enumerate(states, 1)]
    for st in fs_storages.values():
        for key, data in zip(keys, states, strict=True):
            st.put(key, io.BytesIO(data))
    fs1, fs2 = fs_storages["fs1"], fs_storages["fs2"]
    fs1.delete(keys[0])
    flip_byte(fs2.root / keys[1])

    checked = run_audit(catalog, fs_storages, due_only=False, actor="tester",
                        archive_code="KHOSO")  # no --repair: found, left
    assert (checked.disposal_states_restored, checked.disposal_states_unrestored) == (0, 2)
    assert {i["code"] for p in checked.problems for i in p["issues"]} == {"AUD211"}

    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester",
                       archive_code="KHOSO")

    assert (report.disposal_states_restored, report.disposal_states_unrestored) == (2, 0)
    issues = [(p["location"], i["code"], i["path"]) for p in report.problems for i in p["issues"]]
    assert sorted(issues) == [("fs1", "AUD210", keys[0]), ("fs2", "AUD210", keys[1])]
    for st in fs_storages.values():
        for key, data in zip(keys, states, strict=True):
            with st.open(key) as f:
                assert f.read() == data
    assert actions(catalog).count("fixity.disposal_state.restored") == 2
    assert actions(catalog).count("fixity.disposal_state.damaged") == 2
    with catalog.session() as s:
        assert set(s.scalars(sa.select(AuditEntry.object_id).where(
            AuditEntry.action == "fixity.disposal_state.restored"))) == {case}
    again = run_audit(catalog, fs_storages, due_only=False, actor="tester", archive_code="KHOSO")
    assert (again.disposal_states_restored, again.disposal_states_unrestored) == (0, 0)


@pytest.mark.parametrize("fails_in", ["put", "verify"])
def test_a_target_failing_mid_write_is_the_targets_fault(catalog, fs_storages, monkeypatch,
                                                         fails_in):
    """The copy being repaired (fs1) fails with an OSError half-way through writing (or when
    read back): the repair fails for this run naming fs1 as the target, fs2 (a good source) is
    not blamed, nothing is lost or critical, and the next run repairs it. Before, the
    target's OSError was taken for the source's disk: every source was tried and the reason
    read 'no readable good copy; unreachable: fs2: …' (verify raising crashed the audit)."""
    aip = make_aip(catalog, fs_storages, "KHOSO.H49.2001.186")
    flip_byte(fs_storages["fs1"].root / aip.key(PDF))
    real_put, real_verify = FilesystemStorage.put, FilesystemStorage.verify
    calls = []

    def put(self, key, stream, **kw):
        if self.name == "fs1" and key == aip.key(PDF):
            calls.append("put")
            if fails_in == "put":
                stream.read(1000)  # mid-write
                raise OSError(28, "No space left on device")
        return real_put(self, key, stream, **kw)

    def verify(self, key, *args, **kw):  # the read back after the repair's write
        if self.name == "fs1" and key == aip.key(PDF) and calls and fails_in == "verify":
            raise OSError(28, "No space left on device")
        return real_verify(self, key, *args, **kw)

    monkeypatch.setattr(FilesystemStorage, "put", put)
    monkeypatch.setattr(FilesystemStorage, "verify", verify)
    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester")

    assert calls and report.bad == 1 and report.repaired == 0 and report.unrepaired == 1
    assert report.critical == []
    (failed,) = events(catalog, "replication")
    assert "status=failed" in failed.detail and "tried=-" in failed.detail
    with catalog.session() as s:
        assert not s.get(Package, aip.package_id).critical
        entry = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "fixity.repair.failed")).one()
    reason = entry.detail["reason"]
    assert "fs1 (target)" in reason and "No space left" in reason
    assert "fs2" not in reason and "unreachable" not in reason
    assert copies(catalog, aip.package_id)["fs2"].last_check_result == "ok"

    monkeypatch.setattr(FilesystemStorage, "put", real_put)
    monkeypatch.setattr(FilesystemStorage, "verify", real_verify)
    report = run_audit(catalog, fs_storages, due_only=False, repair=True, actor="tester")
    # written whole before the failed read back: the next audit finds it intact
    assert (report.bad, report.repaired) == ((1, 1) if fails_in == "put" else (0, 0))
    assert report.critical == [] and all_verify(aip, fs_storages)
