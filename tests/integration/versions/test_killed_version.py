"""A process killed (SIGKILL) while making a metadata version, right after reserving v2 or
half-way through writing it: the next correction takes the dead reservation back (its objects
in every location, its row, an audit entry) and makes v2 whole, v1 byte for byte as it was.
A reservation whose holder still runs is left alone: VER008, and ``take_back`` refuses it
(VER021). SQLite and PostgreSQL; two filesystem replicas, or a filesystem and an S3 one."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from access_api.cli import main
from access_api.services import version_reservations as vr
from access_api.services import versions
from access_api.services.base import Identity, ServiceContext
from preservation.catalog.models import AuditEntry, Package
from preservation.errors import Conflict, ValidationFailed
from preservation.packaging.aip.reservation import Verdict
from preservation.settings import StorageLocation
from tests.support.khoso import Khoso
from tests.support.versions import EAD, REPLICAS, audit_all, ingest, retitle, tree

pytestmark = pytest.mark.integration
TITLE = "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An (đã sửa)"


def child(khoso: Khoso, objid: str, step: str, **kwargs) -> subprocess.Popen:
    settings, ead = khoso.tmp / "settings.pickle", khoso.tmp / "EAD-new.xml"
    settings.write_bytes(pickle.dumps(khoso.settings))
    ead.write_bytes(retitle(current_ead(khoso, objid), TITLE + " (lần 1)"))
    return subprocess.Popen([sys.executable, "-m", "tests.support.killed_version",
                             str(settings), objid, str(ead), step],
                            stdout=subprocess.PIPE, text=True, env=os.environ.copy(), **kwargs)


def current_ead(khoso: Khoso, objid: str) -> bytes:
    ctx = ServiceContext(khoso.settings)
    with ctx.catalog.session() as s:
        key = s.scalar(sa.text("select c.key from stored_copy c join package p on "
                               "p.id = c.package_id where p.objid = :o and p.status = 'active'")
                       .bindparams(o=objid))
    with next(iter(ctx.storages.values())).open(f"{key}/{EAD}") as f:
        return f.read()


def keys_under(khoso: Khoso, prefix: str) -> dict[str, list[str]]:
    return {name: list(st.list(prefix + "/"))
            for name, st in ServiceContext(khoso.settings).storages.items()}


def rows(khoso: Khoso) -> list[tuple[int, str]]:
    with khoso.catalog.session() as s:
        return [(p.version, p.status) for p in s.scalars(
            sa.select(Package).where(Package.kind == "AIP").order_by(Package.version))]


def cli(khoso: Khoso, *args: str):
    st = khoso.settings
    env = {"KHOSO_DATA_DIR": str(st.data_dir), "KHOSO_DATABASE_URL": st.database_url,
           "KHOSO_CLAMD": os.environ.get("KHOSO_TEST_CLAMD", ""), "KHOSO_ARCHIVE_CODE": "TTLTNA",
           "KHOSO_STORAGE_LOCATIONS": ",".join(f"{loc.name}={loc.url}"
                                               for loc in st.storage_locations)}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def correct(khoso: Khoso, objid: str):
    return versions.update_metadata(
        ServiceContext(khoso.settings), Identity.system("officer-2"), objid,
        package_ead=retitle(current_ead(khoso, objid), TITLE), document_eads={},
        reason="Sửa tiêu đề hồ sơ")


def killed(khoso: Khoso, objid: str, step: str) -> str:
    proc = child(khoso, objid, step)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == -9, out  # died by SIGKILL, after what it printed
    assert "reserved" in out and ("half-written" in out) == (step == "half-written")
    with khoso.catalog.session() as s:
        pkg = s.scalars(sa.select(Package).where(Package.status == "received")).one()
        assert pkg.reserved_by and pkg.reserved_by.split(":")[-2] == str(proc.pid)
        return pkg.reserved_by


def check_whole(khoso: Khoso, objid: str, entity: Path, before: dict, dead: str) -> None:
    assert rows(khoso) == [(1, "superseded"), (2, "active")]
    for name in REPLICAS:
        if name in before:
            assert tree(khoso.replica(name) / entity / "v1") == before[name], "v1 untouched"
    with khoso.catalog.session() as s:
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == vr.ACTION)).one()
        assert entry.object_id == objid and entry.actor == "officer-2"
        assert entry.detail["version"] == 2 and entry.detail["reserved_by"] == dead
        assert entry.detail["verdict"] == Verdict.HOLDER_GONE.value
        assert s.scalars(sa.select(Package.label).where(Package.version == 2)).one() == TITLE


@pytest.mark.parametrize("step", ["reserved", "half-written"])
def test_a_version_a_killed_process_reserved_is_taken_back(khoso: Khoso, step: str) -> None:
    objid, entity = ingest(khoso)
    before = {name: tree(khoso.replica(name) / entity / "v1") for name in REPLICAS}
    dead = killed(khoso, objid, step)
    assert rows(khoso) == [(1, "active"), (2, "received")]
    left = keys_under(khoso, f"{entity.as_posix()}/v2")
    assert all(left.values()) == (step == "half-written"), left
    (found,) = vr.reservations(ServiceContext(khoso.settings))
    assert found.verdict is Verdict.HOLDER_GONE and found.reserved_by == dead

    outcome = correct(khoso, objid)

    assert outcome.accepted and outcome.version == 2
    check_whole(khoso, objid, entity, before, dead)
    audit_all(khoso, copies=4)  # both versions whole in both replicas, no stray object
    assert vr.reservations(ServiceContext(khoso.settings)) == []


def test_a_live_reservation_is_left_alone(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    proc = child(khoso, objid, "hold", stdin=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("reserved")
        assert proc.stdout.readline().strip() == "half-written"
        with pytest.raises(ValidationFailed) as refused:
            correct(khoso, objid)
        assert "VER008" in refused.value.report.codes()
        with pytest.raises(Conflict) as live:
            vr.take_back(ServiceContext(khoso.settings), Identity.system(), objid, 2)
        assert live.value.code == "VER021" and str(proc.pid) in live.value.message("en")
        shown = json.loads(cli(khoso, "aip", "reservations", "--json").output)
        assert [(r["objid"], r["version"], r["verdict"]) for r in shown] == [(objid, 2, "live")]
        refused_cli = cli(khoso, "--lang", "en", "aip", "take-back", objid, "2")
        assert refused_cli.exit_code != 0 and "VER021" in refused_cli.output
        assert rows(khoso) == [(1, "active"), (2, "received")]
        assert all(keys_under(khoso, f"{entity.as_posix()}/v2").values()), "its objects stay"
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    shown = json.loads(cli(khoso, "aip", "reservations", "--json").output)
    assert [r["verdict"] for r in shown] == ["holder_gone"]
    taken = cli(khoso, "aip", "take-back", objid, "2")
    assert taken.exit_code == 0 and "đã thu hồi" in taken.output, taken.output
    assert rows(khoso) == [(1, "active")]
    assert not any(keys_under(khoso, f"{entity.as_posix()}/v2").values())
    for name in REPLICAS:
        assert not (khoso.replica(name) / entity / "v2").exists()
    assert correct(khoso, objid).version == 2
    audit_all(khoso, copies=4)


@pytest.mark.parametrize(("age", "taken"), [(dt.timedelta(minutes=10), False),
                                            (dt.timedelta(hours=2), True)])
def test_a_reservation_held_on_another_host_lasts_its_lease(khoso: Khoso, age, taken) -> None:
    objid, entity = ingest(khoso)
    with khoso.catalog.session() as s:
        v1 = s.scalars(sa.select(Package).where(Package.objid == objid)).one()
        s.add(Package(objid=objid, kind="AIP", content_type=v1.content_type, version=2,
                      status="received", previous_id=v1.id, reserved_by="may-khac:4242:ab-99",
                      reserved_at=dt.datetime.now(dt.UTC) - age))
    r1 = khoso.replica("replica1") / entity / "v2" / "data" / "METS.xml"
    r1.parent.mkdir(parents=True)
    r1.write_bytes(b"half")
    if not taken:
        with pytest.raises(ValidationFailed) as refused:
            correct(khoso, objid)
        assert "VER008" in refused.value.report.codes()
        assert r1.exists() and rows(khoso) == [(1, "active"), (2, "received")]
        return
    assert correct(khoso, objid).version == 2
    assert rows(khoso) == [(1, "superseded"), (2, "active")]
    audit_all(khoso, copies=4)


def test_registered_versions_are_never_taken_back(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    assert correct(khoso, objid).version == 2
    with khoso.catalog.session() as s:  # as if made by a process long gone
        s.execute(sa.update(Package).values(reserved_by="may-khac:1:x",
                                            reserved_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    assert vr.reservations(ServiceContext(khoso.settings)) == []
    with pytest.raises(Exception) as none:
        vr.take_back(ServiceContext(khoso.settings), Identity.system(), objid, 2)
    assert getattr(none.value, "code", None) == "VER022"
    assert rows(khoso) == [(1, "superseded"), (2, "active")]
    audit_all(khoso, copies=4)


def test_killed_half_way_with_an_s3_location(khoso: Khoso, s3_endpoint: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "khoso-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "khoso-test")
    bucket = f"khoso-killed-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket)
    s3 = StorageLocation("s3a", f"s3://{bucket}", {"endpoint": s3_endpoint,
                                                   "region": "us-east-1"})
    khoso.settings = replace(khoso.settings, storage_locations=(
        khoso.settings.location("replica1"), s3))
    objid, entity = ingest(khoso)
    dead = killed(khoso, objid, "half-written")
    prefix = f"{entity.as_posix()}/v2"
    assert keys_under(khoso, prefix)["s3a"], "half the version is in S3"

    outcome = correct(khoso, objid)

    assert outcome.accepted
    check_whole(khoso, objid, entity, {}, dead)
    held = set(keys_under(khoso, prefix)["s3a"])
    assert held == {f"{prefix}/{p}" for p in outcome.written}, "no orphan of the dead run"
    assert set(keys_under(khoso, prefix)["replica1"]) == held


def test_a_migration_takes_back_a_version_a_killed_correction_reserved(khoso: Khoso) -> None:
    from access_api.services import migration
    from tests.support.migration import PDFA, context
    from tests.support.migration import ingest as ingest_pdf

    objid, entity = ingest_pdf(khoso)
    before = {name: tree(khoso.replica(name) / entity / "v1") for name in REPLICAS}
    killed(khoso, objid, "half-written")

    result = migration.migrate_aip(context(khoso), Identity.system("officer-2"), objid,
                                   ["fmt/276"])

    assert result.version == 2
    assert rows(khoso) == [(1, "superseded"), (2, "active")]
    for name in REPLICAS:
        assert tree(khoso.replica(name) / entity / "v1") == before[name]
        assert PDFA in tree(khoso.replica(name) / entity / "v2")
    audit_all(khoso, copies=4)


def test_a_take_back_a_location_fails_is_tried_again(khoso: Khoso,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A location failing mid take-back leaves the row to its dead holder (not to the taker,
    which lives on: a web server would otherwise hold it for as long as it runs)."""
    from storage.errors import StorageError

    objid, entity = ingest(khoso)
    dead = killed(khoso, objid, "half-written")
    real = vr.purge

    def failing(*args, **kwargs):
        raise StorageError("STO006", "x", transient=True, key="x", location="replica2",
                           operation="list", reason="down")

    monkeypatch.setattr(vr, "purge", failing)
    with pytest.raises(StorageError):
        correct(khoso, objid)
    (left,) = vr.reservations(ServiceContext(khoso.settings))
    assert left.reserved_by == dead and left.verdict is Verdict.HOLDER_GONE
    monkeypatch.setattr(vr, "purge", real)
    assert correct(khoso, objid).version == 2
    audit_all(khoso, copies=4)


def test_a_row_replaced_by_another_run_is_not_taken_back(khoso: Khoso) -> None:
    """Seen dead, then taken back and reserved again by another run before this taker acts:
    the claim (a conditional update on the holder it saw) fails, and nothing of the new run's
    is touched."""
    from preservation.packaging.aip.reservation import this_process

    objid, entity = ingest(khoso)
    killed(khoso, objid, "half-written")
    (seen,) = vr.reservations(ServiceContext(khoso.settings))
    with khoso.catalog.session() as s:  # another run: took it back, reserved v2 for itself
        s.execute(sa.delete(Package).where(Package.id == seen.package_id))
        v1 = s.scalars(sa.select(Package).where(Package.objid == objid)).one()
        s.add(Package(objid=objid, kind="AIP", content_type=v1.content_type, version=2,
                      status="received", previous_id=v1.id, reserved_by=this_process().token,
                      reserved_at=dt.datetime.now(dt.UTC)))
    theirs = khoso.replica("replica1") / entity / "v2" / "data" / "METS.xml"
    theirs.parent.mkdir(parents=True, exist_ok=True)
    theirs.write_bytes(b"the live run's object")

    assert vr._take_back(ServiceContext(khoso.settings), "officer-2", seen) is None

    assert theirs.read_bytes() == b"the live run's object"
    (now,) = vr.reservations(ServiceContext(khoso.settings))
    # SQLite may give the new row the same id: the holder tells them apart
    assert now.reserved_by != seen.reserved_by and now.verdict is Verdict.LIVE
    with khoso.catalog.session() as s:
        assert not s.scalars(sa.select(AuditEntry).where(AuditEntry.action == vr.ACTION)).all()
